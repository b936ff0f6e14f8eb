"""Every exception pytest-modelarts raises.

::

    ModelArtsError                      base of everything below
    ├── ConfigurationError              bad input, raised before any work starts (also a ValueError)
    │   ├── ParameterError              one parameter is wrong: names it, the value given, what is allowed
    │   ├── SpecError                   a marker argument or job-file key is wrong: names the key
    │   └── JobFileError                a job file cannot be used: names the file, the key, the problem
    ├── EnvError                        an environment cannot be locked, built or used
    │   ├── LockError                   the spec cannot be solved, or the lock is stale in ``check`` mode
    │   └── BuildError                  a lock cannot be realised into a prefix
    ├── BackendError                    a backend cannot start or follow a job (Docker missing, image absent, ...)
    ├── JobError                        a job did not complete; carries the job, its exit code, failing worker, cause, log tail
    │   ├── JobFailedError              the boot file exited non-zero (or the container was OOM-killed)
    │   ├── JobStoppedError             the job was stopped (``stop()``, Ctrl-C) before it completed
    │   └── JobTimeoutError             ``wait(timeout)`` or the job's own timeout ran out
    └── OnlineError                     the ModelArts / OBS service refused a request
        └── AuthenticationError         the service refused the credentials

Messages never contain secrets: credentials are kept in :class:`~pytest_modelarts.core.session.Credentials`,
whose ``repr`` and ``str`` mask them, and online errors are built from the service's message only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from typing import Any


class ModelArtsError(Exception):
    """Base class of all pytest-modelarts errors."""


class ConfigurationError(ModelArtsError, ValueError):
    """The configuration is invalid; raised before anything runs."""


class ParameterError(ConfigurationError):
    """One parameter has a value that is not allowed.

    The message names the owner (``Estimator``, ``fit``...), the parameter, the value given and what is
    allowed, e.g. ``Estimator(train_instance_count=0): must be an int >= 1``.
    """

    def __init__(self, owner: str, parameter: str, value: Any, allowed: str) -> None:
        self.owner = owner
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(f"{owner}({parameter}={_short_repr(value)}): {allowed}")


def unknown_keywords_error(owner: str, unknown: Iterable[str], known: Sequence[str]) -> ParameterError:
    """A ParameterError for unexpected keyword arguments, suggesting the closest valid name."""
    names = sorted(unknown)
    hints = []
    for name in names:
        close = get_close_matches(name, known, n=1)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    allowed = f"unknown keyword argument {', '.join(hints)}; the parameters are: {', '.join(known)}"
    return ParameterError(owner, names[0], "...", allowed)


class SpecError(ConfigurationError):
    """A smoke configuration is wrong; ``key`` names the marker argument or job-file key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class JobFileError(ConfigurationError):
    """A job file cannot be used; the message names the file, the key and the problem."""


class EnvError(ModelArtsError):
    """An environment cannot be locked, built or used."""


class LockError(EnvError):
    """Solving the environment failed, or the committed lock no longer matches the spec."""


class BuildError(EnvError):
    """A lock could not be installed into a prefix."""


class BackendError(ModelArtsError):
    """A backend could not start or follow a job."""


class JobError(ModelArtsError):
    """A training job did not complete. The message is made of the fields a report reads: ``summary`` (what
    happened), ``job``, ``exit_code``, ``failed_worker`` (None when no worker failed the job or the backend cannot
    tell), ``cause`` (that worker's last exception line), ``logs`` (where they are), ``log_tail`` (its last lines)."""

    def __init__(self, summary: str, job: Any = None, log_tail: Sequence[str] = (), *, exit_code: int | None = None,
                 failed_worker: int | None = None, cause: str | None = None, logs: Sequence[str] = ()) -> None:
        self.summary = summary
        # a TrainingJob; typed loosely because this module sits below every other one (no import upwards)
        self.job = job
        self.exit_code = exit_code
        self.failed_worker = failed_worker
        self.cause = cause
        self.logs = list(logs)
        self.log_tail = list(log_tail)
        message = summary + (f"; logs: {', '.join(self.logs)}" if self.logs else "")
        if self.log_tail:
            message += "\n--- last log lines ---\n" + "\n".join(self.log_tail)
        super().__init__(message)


class JobFailedError(JobError):
    """The job ran and failed."""


class JobStoppedError(JobError):
    """The job was stopped before it completed."""


class JobTimeoutError(JobError, TimeoutError):
    """Waiting for the job ran out of time."""


class OnlineError(ModelArtsError):
    """The online service refused a request."""

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        super().__init__(message)


class AuthenticationError(OnlineError):
    """The online service refused the credentials."""


def _short_repr(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
