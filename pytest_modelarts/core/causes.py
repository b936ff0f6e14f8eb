"""Why a job failed, in one line: the failing worker's last exception (or last log line), read from the log's end.

A failure report is read by people scanning a CI summary: ``FAILED test_x - ModuleNotFoundError: No module named
'pandas' (worker 0, exit code 1)`` says what to fix; "job 'test_x' failed with exit code 1" does not. Logs are read
from their end only (a failing job's log may be a gigabyte).
"""

from __future__ import annotations

import re
from pathlib import Path

from .training_job import TrainingJob

#: how much of a log's end is read to find the cause and the tail
TAIL_BYTES = 256 * 1024
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)|AssertionError|KeyboardInterrupt)(:.*)?$")
_OURS = "[pytest-modelarts]"


def log_tail(path: Path, lines: int, limit: int = TAIL_BYTES) -> list[str]:
    """The last ``lines`` lines of a file, reading at most its last ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            data = fh.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace").splitlines()
    if size > limit and text:
        text = text[1:]  # the first line read is most likely cut
    return text[-lines:] if lines else []


def exception_line(lines: list[str]) -> str | None:
    """The last line that names an exception (``ValueError: ...``), as Python's traceback ends with one."""
    for line in reversed(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith(_OURS) and _EXCEPTION.match(stripped):
            return stripped
    return None


def failing_worker(job: TrainingJob) -> int:
    """The worker that failed the job: the one the backend names, else the first whose log ends in an exception."""
    named = re.search(r"worker (\d+) exited", job.failure_reason or "")
    if named:
        return int(named.group(1))
    for index, location in enumerate(job.log_locations()):
        if exception_line(log_tail(Path(location), 50)) is not None:
            return index
    return 0


def cause(job: TrainingJob, worker: int) -> str | None:
    """The failing worker's (:func:`failing_worker`) last exception line, else its last line of output (ours left
    out), else None."""
    locations = job.log_locations()
    if not locations:
        return None
    tail = log_tail(Path(locations[min(worker, len(locations) - 1)]), 200)
    found = exception_line(tail) or next((line.strip() for line in reversed(tail)
                                          if line.strip() and not line.startswith(_OURS)), None)
    if found is None:
        return None
    return found if len(locations) == 1 else f"{found} (worker {worker})"


#: phases and secondary phases say nothing a report does not show already
_PHASE_WORDS = frozenset({"Failed", "Abnormal", "Terminated", "Completed", "Unknown"})


def remote_cause(job: TrainingJob, lines: int = 200) -> str | None:
    """Why a job followed through its backend (an online job) did not complete, in one line, or None.

    The first worker whose log ends in an exception names it, else worker 0's last line of output; then the
    exit code, and the service's own reason when it says more than the phase (``boom (exit code 3)``). Logs are
    read through the backend (the online log preview), not from files.
    """
    from ..errors import ModelArtsError

    found: str | None = None
    try:
        names = job.get_job_log_file_list()
        tails = [job.tail(lines, worker=name) for name in names[:8]]
    except ModelArtsError:  # the logs cannot be read: what the service says about the job still counts
        names, tails = [], []
    for name, tail in zip(names, tails, strict=False):
        line = exception_line(tail)
        if line is not None:
            found = line if len(names) == 1 else f"{line} ({name})"
            break
    if found is None and tails:
        found = next((line.strip() for line in reversed(tails[0]) if line.strip() and not line.startswith(_OURS)), None)
    details = [f"exit code {job.exit_code}"] if job.exit_code is not None else []
    reason = job.failure_reason
    if reason and reason not in _PHASE_WORDS and reason != found:
        details.append(reason)
    if found is None:
        return "; ".join(details) or None
    return f"{found} ({'; '.join(details)})" if details else found
