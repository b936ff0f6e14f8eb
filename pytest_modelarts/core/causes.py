"""Why a job failed, in one line: the failing worker's last exception (or last line of output), read from the log's end.

A failure report is read by people scanning a CI summary: ``FAILED test_x - ModuleNotFoundError: No module named
'pandas' (job 'test_x' failed with exit code 1)`` says what to fix; "job 'test_x' failed with exit code 1" does not.
Logs are read through the job's bounded tail (a failing job's log may be a gigabyte).
"""

from __future__ import annotations

import re
from typing import Protocol

from ..errors import ModelArtsError


class TrainingJob(Protocol):
    """What a cause is read from: a :class:`~pytest_modelarts.core.training_job.TrainingJob` (which calls us, so the
    type is named here by what it offers, not imported)."""

    @property
    def failed_worker(self) -> int | None: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def failure_reason(self) -> str | None: ...
    def get_job_log_file_list(self) -> list[str]: ...
    def tail(self, n: int = ..., worker: int = ...) -> list[str]: ...

_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)|AssertionError|KeyboardInterrupt)(:.*)?$")
_OURS = "[pytest-modelarts]"
#: workers whose logs are searched for an exception when the backend does not name the failing one
_SEARCHED = 8
#: phases and secondary phases say nothing a report does not show already
_PHASE_WORDS = frozenset({"Failed", "Abnormal", "Terminated", "Completed", "Unknown"})


def exception_line(lines: list[str]) -> str | None:
    """The last line that names an exception (``ValueError: ...``), as Python's traceback ends with one."""
    for line in reversed(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith(_OURS) and _EXCEPTION.match(stripped):
            return stripped
    return None


def cause(job: TrainingJob, lines: int = 200) -> str | None:
    """The last exception line in the log of the worker that failed ``job`` (:attr:`TrainingJob.failed_worker`; where
    the backend names none, the first of the first workers whose log has one), else the last line of output of that
    worker (else worker 0), ours left out; None when the logs say nothing or cannot be read. Where there are several
    workers the line names its worker: ``RuntimeError: boom (worker 1)``. A worker killed for memory has that as its
    cause (``out of memory: exceeded the 8 GiB of modelarts.vm.cpu.2u ...``): its last line is only where it stopped."""
    reason = job.failure_reason
    if reason is not None and reason.startswith("out of memory"):
        return reason
    try:
        count = len(job.get_job_log_file_list())
        named = job.failed_worker
        workers = [named] if named is not None else list(range(min(count, _SEARCHED)))
        last: str | None = None
        for worker in workers:
            tail = job.tail(lines, worker=worker)
            found = exception_line(tail)
            if found is not None:
                return found if count == 1 else f"{found} (worker {worker})"
            if worker == workers[0]:
                last = next((line.strip() for line in reversed(tail) if line.strip() and not line.startswith(_OURS)), None)
    except ModelArtsError:  # logs that cannot be read leave the job's other facts to tell
        return None
    if last is None:
        return None
    return last if count == 1 else f"{last} (worker {workers[0]})"


def remote_cause(job: TrainingJob, lines: int = 200) -> str | None:
    """Why a job followed through its backend (an online job) did not complete, in one line, or None: its
    :func:`cause`, then the exit code, and the service's own reason when it says more than the phase
    (``boom (exit code 3)``)."""
    found = cause(job, lines)
    details = [f"exit code {job.exit_code}"] if job.exit_code is not None else []
    reason = job.failure_reason
    if reason and reason not in _PHASE_WORDS and reason != found:
        details.append(reason)
    if found is None:
        return "; ".join(details) or None
    return f"{found} ({'; '.join(details)})" if details else found
