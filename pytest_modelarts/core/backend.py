"""What a backend is: a registry entry that starts :class:`Execution` objects.

A backend is registered by a plugin's ``pytest_modelarts_register_backends(registry)`` hook and chosen by
``pytest_modelarts_select_backend``. ``Backend.validate`` runs before any work (bad input fails fast);
``Backend.start`` returns an :class:`Execution`, which the public :class:`~pytest_modelarts.core.training_job.TrainingJob`
wraps. Executions report :class:`~pytest_modelarts.core.phase.JobPhase` values; they never raise for a failed job.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .flavors import Usage
    from .job import JobConfig
    from .phase import JobPhase
    from .plan import JobPlan
    from .session import Session


class Execution(abc.ABC):
    """A job as its backend runs it."""

    #: the command each worker runs (for reports); None when the backend cannot tell
    command: Sequence[str] | None = None
    #: the local directory laid out like ``MA_MOUNT_PATH``'s parent (local backends), else None
    sandbox: Path | None = None
    #: the id the service gave the job (online backends); None where our own id names it
    service_job_id: str | None = None

    @abc.abstractmethod
    def phase(self) -> JobPhase:
        """The current phase, without blocking."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> JobPhase:
        """Block until a final phase or until ``timeout`` seconds passed; return the phase reached."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Terminate the job and everything it started; return once it is Terminated (or final)."""

    @property
    @abc.abstractmethod
    def exit_code(self) -> int | None:
        """The job's exit code (of the first failing worker), None while running or when unknown."""

    @abc.abstractmethod
    def log_names(self) -> list[str]:
        """Names of the job's log files, one per worker."""

    @abc.abstractmethod
    def read_log(self, name: str | None = None, offset: int = 0, size: int | None = None) -> bytes:
        """Bytes of log ``name`` (default: worker 0) from ``offset``."""

    def tail(self, lines: int, name: str | None = None) -> list[str]:
        """The last ``lines`` lines of log ``name`` (default: worker 0). Backends whose logs are files read them from
        their end; this default reads what ``read_log`` gives (a service's log preview, bounded by the service)."""
        if lines <= 0:
            return []
        return self.read_log(name).decode("utf-8", "replace").splitlines()[-lines:]

    @property
    def failed_worker(self) -> int | None:
        """The index of the worker whose failure failed the job; None while no worker failed (or the job failed
        for another reason) and where the backend cannot tell."""
        return None

    @property
    def output_conflicts(self) -> list[str]:
        """Output files that several workers wrote with different contents (local multi-node runs)."""
        return []

    def dump_stacks(self) -> None:  # noqa: B027 - optional: where the backend can, it does
        """Have the job write every thread's Python stack into its log (before it is stopped for its timeout)."""

    @property
    def lost_writes(self) -> list[str]:
        """What the job wrote outside ``train_url``, ``/cache`` and ``/tmp``: online it is lost (sandboxed runs)."""
        return []

    def log_locations(self) -> list[str]:
        """Where the logs are (local paths where there are files, else the log names)."""
        return self.log_names()

    @property
    def output_location(self) -> str | None:
        """Where the job's outputs are (a local path or an obs:// URL)."""
        return None

    @property
    def failure_reason(self) -> str | None:
        """A short explanation of a failure (e.g. ``out of memory``), None when there is nothing to add."""
        return None

    def info(self) -> dict[str, Any]:
        """Backend-specific details for ``get_job_info()``."""
        return {}

    def usage(self) -> Usage | None:
        """Each worker's peak memory under the job's limits, once it ended; None where the backend cannot tell."""
        return None


class Backend(abc.ABC):
    """Runs jobs somewhere: local processes, Docker containers, ModelArts."""

    #: the name users select it by
    name: ClassVar[str]
    #: True when the backend needs a PythonRuntime (it runs the boot file on this machine's files)
    needs_runtime: ClassVar[bool] = True

    def __init__(self, session: Session) -> None:
        self.session = session

    def prepare(self) -> None:  # noqa: B027 - optional: most backends have nothing to start ahead
        """Start, in the background, what this backend's next job would otherwise wait for; return at once. The
        plugin calls it when the run's tests are collected, so that the first job starts as the later ones do."""

    def validate(self, config: JobConfig) -> None:  # noqa: B027 - optional: a backend that runs everything checks nothing
        """Raise :class:`~pytest_modelarts.errors.ConfigurationError` for what this backend cannot run."""

    @abc.abstractmethod
    def start(self, plan: JobPlan) -> Execution:
        """Carry out ``plan`` (the job as ModelArts would run it: :mod:`~pytest_modelarts.core.plan`); return at once."""

    def attach(self, job_id: str, config: JobConfig) -> Execution:
        """Follow a job this backend started earlier, e.g. in another process (the online backend can)."""
        raise ConfigurationError(f"the {self.name!r} backend cannot follow a job it did not start in this process")

    def find_job(self, name: str, *, created_after: float = 0.0) -> str | None:
        """The id of the newest job named ``name`` that a create request sent at ``created_after`` (seconds since the
        epoch) may have created; None when there is none or the backend cannot look jobs up by name (only a service
        that outlives us can: ``online``). Promotion asks it before submitting a job whose creation was not answered."""
        return None


class BackendRegistry:
    """The backends plugins registered, by name."""

    def __init__(self) -> None:
        self._backends: dict[str, type[Backend]] = {}

    def register(self, backend: type[Backend]) -> None:
        existing = self._backends.get(backend.name)
        if existing is not None and existing is not backend:
            raise ConfigurationError(
                f"two backends are named {backend.name!r}: {existing.__module__}.{existing.__qualname__} and "
                f"{backend.__module__}.{backend.__qualname__}"
            )
        self._backends[backend.name] = backend

    def get(self, name: str) -> type[Backend]:
        try:
            return self._backends[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown backend {name!r}; the registered backends are: {', '.join(self._backends) or 'none'}"
            ) from None
