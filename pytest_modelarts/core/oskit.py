"""Small operating-system helpers, each defined once: an atomic file write, a ``/proc/<pid>/stat`` reader, a wait
for the first of some processes to exit.

Standard library only, and only ``os``: the local backend's supervisor, a program started for every job with
``python -I -S``, imports this file by path, and every module it loads adds to every job's start (tempfile and
pathlib would add ~7 ms).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (or collections) into every job's supervisor
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Sequence


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    The data goes to a temporary file in the same directory, which then replaces ``path`` (``os.replace``);
    ``mode`` sets its permissions (default: what ``mkstemp`` gives, 0o600).
    """
    target = os.fspath(path)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def proc_stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (``state`` is field 0), None when unreadable.

    The command name may hold spaces and parentheses, so the fields start after the *last* ``)``.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def parent_pid(pid: int) -> int | None:
    fields = proc_stat(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def start_ticks(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot: with the pid, it tells a process from a later one."""
    fields = proc_stat(pid)
    return fields[19].decode() if fields and len(fields) > 19 else None


def children(pid: int, *, every_thread: bool = False) -> list[int]:
    """The children of ``pid``: the kernel's list of its main thread's children where it keeps one; a scan of
    ``/proc`` with ``every_thread`` (a multi-threaded subreaper's orphans may be any thread's) or elsewhere."""
    if not every_thread:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as fh:
                return [int(child) for child in fh.read().split()]
        except OSError:
            pass
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return [int(e) for e in entries if e.isdigit() and parent_pid(int(e)) == pid]


class LogCap:
    """Lets through at most ``limit`` bytes of a job's output to ``write``, then notes once that the rest is dropped,
    as ModelArts caps a job's log (1 GiB; the job runs on). Callers keep reading: a job must never block on it."""

    def __init__(self, limit: int, write: Callable[[bytes], object]) -> None:
        self.limit = limit
        self.written = 0
        self._write = write

    def __call__(self, chunk: bytes) -> None:
        if self.written >= self.limit:
            return
        kept = chunk[: self.limit - self.written]
        self._write(kept)
        self.written += len(kept)
        if self.written >= self.limit:
            self._write((f"\n[pytest-modelarts] log length overflow (max: {self.limit} bytes): as on ModelArts, the job "
                         "runs on and its further output is dropped\n").encode())


def wait_for_exit(procs: Sequence[subprocess.Popen[bytes]], timeout: float | None) -> None:
    """Sleep until one of ``procs`` exits, or ``timeout``: on Linux their pidfds wake us the moment one does, where
    ``Popen.wait(timeout)`` polls with growing sleeps and notices an end up to 50 ms late."""
    import select  # here, not at the top: the supervisor imports this module and never waits this way
    import subprocess

    fds: list[int] = []
    try:
        fds = [os.pidfd_open(p.pid) for p in procs]
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
        for fd in fds:
            os.close(fd)
        try:
            procs[0].wait(0.2 if timeout is None else min(0.2, timeout))
        except subprocess.TimeoutExpired:
            pass
        return
    try:
        select.select(fds, [], [], timeout)
    finally:
        for fd in fds:
            os.close(fd)
