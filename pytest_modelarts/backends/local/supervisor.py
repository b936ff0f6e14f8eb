"""Runs one worker's command and guarantees that nothing it started outlives it.

Started by the local backend as ``python -I -S supervisor.py`` in a session of its own (so a Ctrl-C in the terminal
reaches pytest, which decides), with a pipe on stdin whose other end the parent holds. It starts *before* a job needs
it (see :mod:`.standby`): it imports what it needs, becomes a subreaper, then waits for its request on stdin (see
:func:`encode_request`: the status file, grace, log cap, command, environment, working directory, log file, control
groups and cores), so that its own start is off the job's path. EOF before a request means the parent no longer needs it: it exits. It:

* becomes a child subreaper (before its request), so processes the job daemonises are re-parented to it and can be
  found;
* starts the command in a process group of its own and waits for it;
* makes the command die with it (PR_SET_PDEATHSIG), should it be killed itself;
* on SIGTERM/SIGINT/SIGHUP, or when the parent dies (EOF on stdin), sends SIGTERM to the job's group, waits
  the request's grace seconds, then SIGKILLs the group and every remaining descendant;
* when the command exits by itself, kills whatever it left behind, as a container's end would;
* copies the command's output to the worker's log (its stdout from then on) up to the request's log cap, then drops the rest
  and says so once, while the job runs on: ModelArts caps a job's log at 1 GiB that way;
* writes ``{"exit_code", "signal", "terminated"}`` to the request's status file (atomically) and exits with the
  job's code.

Standard library only, run with ``-I`` (the job's PYTHONPATH must not change what it imports) and ``-S`` (no
site-packages needed: it starts faster, and the first job of a process waits for its start). The one helper module it needs,
``core/oskit.py`` (standard library only too), it imports by path: the package cannot be imported here.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import signal
import subprocess
import sys
import threading
import time

# typing.TYPE_CHECKING without importing typing (nothing else here loads it): type checkers take any name
# TYPE_CHECKING for true, so they check the package import; at run time one of the other two branches runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...core import oskit
elif __name__ == "__main__":  # a program of its own: reach core/oskit.py beside the package's other files
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "core"))
    import oskit
else:
    from ...core import oskit

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _die_with_me() -> None:
    """In the child, before exec: SIGKILL it when the supervisor dies, even of SIGKILL (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent-death pipe and the process group remain
        pass


def _enter(groups: list[str], cores: list[int] | None) -> None:
    """In the child, before exec: join the worker's control groups (its flavor's memory and CPUs, see limits.py) and,
    where it has none, keep to its cores through its affinity. A group that refuses fails the worker: a job must not
    run without the limits it was given."""
    pid = str(os.getpid())
    for procs in groups:
        with open(procs, "w") as fh:
            fh.write(pid)
    if cores:
        os.sched_setaffinity(0, cores)


def _before_exec(groups: list[str], cores: list[int] | None) -> None:
    _die_with_me()
    _enter(groups, cores)


def _set_subreaper() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group still covers the common case
        pass


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_everything(pgid: int, sig: int, main_pid: int) -> None:
    """Signal the job's group and every other descendant; reap all but ``main_pid`` (Popen reaps that one)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    me = os.getpid()
    for _ in range(100):  # each round re-parents grandchildren of the killed to us (subreaper)
        children = [c for c in oskit.children(me, every_thread=True) if c != main_pid]
        if not children:
            return
        for child in children:
            try:
                os.kill(child, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        for child in children:
            try:
                os.waitpid(child, os.WNOHANG)
            except ChildProcessError:
                pass


def _copy_capped(source: int, limit: int) -> None:
    """Copy ``source`` to stdout through the log cap; past it read on (the job must never block) and drop."""
    cap = oskit.LogCap(limit, lambda data: os.write(1, data))
    while True:
        try:
            chunk = os.read(source, 65536)
        except InterruptedError:
            continue
        if not chunk:
            break
        cap(chunk)
    os.close(source)


def encode_request(status_file: str, grace: float, log_limit: int, command: list[str], env: dict[str, str],
                   cwd: str, log_file: str, groups: list[str] | None = None, cores: list[int] | None = None) -> bytes:
    """What the parent writes to a supervisor's stdin to give it its job: a length, then the fields (``marshal``:
    built in, so the supervisor imports nothing for it, and both ends run the same interpreter). ``groups`` are the
    ``cgroup.procs`` files the command joins, ``cores`` its CPU affinity where it has no group."""
    body = marshal.dumps((status_file, float(grace), int(log_limit), list(command), dict(env), cwd, log_file,
                          list(groups or ()), list(cores) if cores else None))
    return len(body).to_bytes(8, "big") + body


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = os.read(fd, size - len(data))
        except InterruptedError:
            continue
        if not chunk:
            return None
        data += chunk
    return data


def _read_request(fd: int) -> tuple[str, float, int, list[str], dict[str, str], str, str, list[str], list[int] | None] | None:
    """The job, or None when stdin ends first (the parent needs no job from us, or is gone)."""
    header = _read_exactly(fd, 8)
    body = _read_exactly(fd, int.from_bytes(header, "big")) if header is not None else None
    return marshal.loads(body) if body is not None else None


def main() -> int:
    _set_subreaper()  # before any job: whatever it daemonises is ours to find
    request = _read_request(0)
    if request is None:
        return 0
    status_file, grace, log_limit, command, env, cwd, log_file, groups, cores = request
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for target in (1, 2):  # our own messages (a traceback, say) land in the worker's log too
        os.dup2(log, target)
    os.close(log)
    stopping = threading.Event()
    lock = threading.Lock()
    state: dict[str, subprocess.Popen[bytes]] = {}

    def terminate(*_: object) -> None:
        with lock:
            if stopping.is_set() or "proc" not in state:
                stopping.set()  # a stop before the start: the start sees it and ends at once
                return
            stopping.set()
        proc = state["proc"]
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        _kill_everything(proc.pid, signal.SIGKILL, proc.pid)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *a: threading.Thread(target=terminate, daemon=True).start())

    read_end, write_end = os.pipe()  # the command's output comes to us, to be capped on its way to the log
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end, process_group=0,
                            preexec_fn=lambda: _before_exec(groups, cores), env=env, cwd=cwd)
    os.close(write_end)
    copier = threading.Thread(target=_copy_capped, args=(read_end, log_limit), daemon=True)
    copier.start()
    with open(status_file + ".pid", "w") as fh:
        fh.write(str(proc.pid))
    with lock:
        state["proc"] = proc
        stopped_early = stopping.is_set()
    if stopped_early:
        stopping.clear()
        threading.Thread(target=terminate, daemon=True).start()
    pgid = proc.pid

    def watch_parent() -> None:
        try:
            while os.read(0, 1024):
                pass
        except OSError:
            pass
        terminate()

    threading.Thread(target=watch_parent, daemon=True).start()
    while True:
        try:
            returncode = proc.wait()
            break
        except InterruptedError:
            continue
    # the main process is gone: like a container's end, nothing it started survives it
    _kill_everything(pgid, signal.SIGKILL, proc.pid)
    _reap()
    copier.join(5)  # the output's end: every writer is gone
    killed_by = -returncode if returncode < 0 else None
    exit_code = 128 + killed_by if killed_by else returncode
    oskit.atomic_write(status_file, status_json(exit_code, killed_by, stopping.is_set()))
    return exit_code


def status_json(exit_code: int, killed_by: int | None, terminated: bool) -> str:
    """The status file's JSON, written by hand: ``import json`` cost every job 1-3 ms of the supervisor's start
    (measured), for one line of three scalars."""
    signal_value = "null" if killed_by is None else str(int(killed_by))
    return f'{{"exit_code": {int(exit_code)}, "signal": {signal_value}, "terminated": {"true" if terminated else "false"}}}'


if __name__ == "__main__":
    # the status is written and the log copied with os.write: nothing is left to flush or finalise, and the
    # parent learns of the job's end when we are gone, so we go at once (an interpreter's shutdown took 2-5 ms)
    os._exit(main())
