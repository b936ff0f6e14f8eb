"""Processes started before a job needs them, so that its start does not wait for theirs.

Without it, a local job's path would begin with two starts of its own: the worker's supervisor (a Python interpreter and its
imports, ~20 ms) and, in a sandboxed node, the namespace holder with its network (~15 ms). Neither depends on the
job until it is handed its part through its stdin, so a :class:`Standby` keeps some started and waiting: a job
takes one, and when the job has ended (not while it starts: a process starting beside the job's own start took
the cores from it, measured) the standby is refilled for the next job. The first job of a process starts its own.

What a waiting process may never do is outlive us: its stdin is a pipe whose only writer is this process (never
inherited), and a waiting process ends at its EOF: when :meth:`Standby.close` runs (at exit) or when the kernel
closes our end because we died, however we died. A process forked from ours (``multiprocessing``) neither takes
what its parent started nor keeps it alive: it closes its copies of their stdin at the fork.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import threading
import weakref
from collections.abc import Callable

from ...core import oskit

#: the most processes of a kind kept waiting: a job of more workers starts the rest itself
MOST = 8


class Standby:
    """Up to ``depth`` processes of a kind, started ahead, each waiting for its work on stdin."""

    def __init__(self, start: Callable[[], subprocess.Popen[bytes]], *, depth: int = 1) -> None:
        self._start = start
        self._depth = depth
        self._waiting: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._registered = False
        self._closed = False
        self._refilling: threading.Thread | None = None
        me = weakref.ref(self)

        def in_child() -> None:
            standby = me()
            if standby is not None:
                standby._forget_in_fork()

        if hasattr(os, "register_at_fork"):  # POSIX; where there is no fork there is nothing to forget
            os.register_at_fork(after_in_child=in_child)

    def _forget_in_fork(self) -> None:
        """In a forked child (multiprocessing, say): what waits is the parent's. The child closes its copies of
        their stdin, or a waiting process would outlive the parent for as long as the child lives."""
        for proc in self._waiting:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
        self._waiting, self._refilling = [], None
        self._lock = threading.Lock()  # another thread of the parent may have held it at the fork

    def take(self) -> subprocess.Popen[bytes]:
        """A live waiting process, else one started now."""
        with self._lock:
            while self._waiting:
                proc = self._waiting.pop(0)
                if proc.poll() is None:
                    return proc
                dismiss(proc)
        return self._start()

    def expect(self, count: int) -> None:
        """A job took ``count`` at once: keep that many waiting from now on (up to ``MOST``), so that the next job of
        as many workers takes them all started, rather than starting the missing ones on its path."""
        with self._lock:
            self._depth = max(self._depth, min(count, MOST))

    def refill_soon(self, when: Callable[[], bool] | None = None) -> None:
        """:meth:`refill` in a thread of its own: starting processes takes a millisecond or two each, which the
        job that just ended need not wait for. ``when``: asked first, in that thread; False: nothing starts."""
        def run() -> None:
            if when is None or when():
                self.refill()

        thread = threading.Thread(target=run, name="pytest-modelarts-standby", daemon=True)
        with self._lock:
            self._refilling = thread
        thread.start()

    def _settle(self) -> None:
        thread = self._refilling
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def refill(self) -> None:
        """Start processes until ``depth`` wait (none once closed)."""
        with self._lock:
            if self._closed:
                return
            self._waiting = [proc for proc in self._waiting if proc.poll() is None]
            while len(self._waiting) < self._depth:
                self._waiting.append(self._start())
            if not self._registered:
                atexit.register(self.close)
                self._registered = True

    def close(self) -> None:
        """End the waiting processes and start no more (at exit). They have no work, so they are killed rather
        than told: one refilled as the last job ended may still be starting, and a run's exit would wait for its
        start to end (measured: 40 ms more at every pytest run's exit)."""
        with self._lock:
            self._closed = True
        self._settle()
        with self._lock:
            waiting, self._waiting = self._waiting, []
        dismiss(*waiting, kill=True)

    def waiting(self) -> list[int]:
        """The pids of the processes waiting, once a refill under way is done."""
        self._settle()
        with self._lock:
            return [proc.pid for proc in self._waiting]


def own_environment() -> dict[str, str]:
    """The environment of a process started from a thread: its own, with just PATH. Started without one, a
    child reads the process's ``environ`` while the parent's other threads may be changing it (a test's
    monkeypatch.setenv, say): measured, execve then failed with EFAULT. The processes started here need no
    more (the supervisor gets its job's environment with its job)."""
    return {"PATH": os.environ.get("PATH") or os.defpath}


def dismiss(*procs: subprocess.Popen[bytes], kill: bool = False) -> None:
    """End processes that end at their stdin's EOF (waiting ones, a job's holder): close each one's stdin (and
    SIGKILL it, with ``kill``), then wait for them (they end side by side: a run waits for the slowest, not for
    the sum), 5 s each at most before SIGKILL; close their pipes."""
    for proc in procs:
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        if kill:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()  # a holder's unshare takes its shell with it (--kill-child), and the shell its namespaces
    for proc in procs:
        oskit.wait_for_exit([proc], 5)
        try:
            proc.wait(5)  # at once where the pidfd saw it end
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
