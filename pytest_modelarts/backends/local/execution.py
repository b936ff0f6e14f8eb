"""A local job's execution: one supervised process per worker (see :mod:`.supervisor`), in a node or relocated."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ...core import contract, oskit
from ...core.job import JobConfig
from ...core.phase import JobPhase
from ...core.session import Session
from .. import sandbox as sb
from ..workers import WorkerJob
from .nodes import JobNodes

SUPERVISOR = Path(__file__).resolve().parent / "supervisor.py"
class LocalExecution(WorkerJob):
    """Workers as supervised processes; each supervisor writes how its worker ended to a status file."""

    def __init__(self, config: JobConfig, session: Session, sandbox: sb.Sandbox,
                 commands: list[list[str]], envs: list[dict[str, str]], cwds: list[Path],
                 *, launchers: list[list[str]] | None = None, nodes: JobNodes | None = None,
                 variables: list[str] | None = None) -> None:
        super().__init__(config, session, sandbox, commands)
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pipes: list[int] = []
        self._nodes = nodes
        self._lost: list[str] = []
        self._variables = variables or []
        self._follow_logs()
        try:
            for i, (command, env, cwd) in enumerate(zip(launchers or commands, envs, cwds, strict=True)):
                self._spawn(i, command, env, cwd)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, worker: int, command: list[str], env: dict[str, str], cwd: Path) -> None:
        read_end, write_end = os.pipe()
        log = open(self._box.log_file(worker), "ab")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(SUPERVISOR), str(self._box.status_file(worker)),
                 str(self.session.stop_grace_period), str(contract.log_limit()), "--", *command],
                stdin=read_end, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                start_new_session=True, close_fds=True,
            )
        finally:
            os.close(read_end)
            log.close()
        os.set_inheritable(write_end, False)
        self._procs.append(proc)
        self._pipes.append(write_end)

    def dump_stacks(self) -> None:
        """SIGUSR1 to each running worker's boot file (job_site/sitecustomize.py registered faulthandler for it):
        every thread's stack goes to the log. Only the processes running the boot file get it: to a launcher
        (nsenter, bwrap) SIGUSR1 would be fatal."""
        boot = self.command[1] if len(self.command) > 1 else None
        if boot is None:
            return
        signalled = False
        for proc in self._procs:
            if proc.poll() is None:
                for pid in _descendants(proc.pid):
                    if _runs(pid, boot):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGUSR1)
                            signalled = True
        if signalled:
            time.sleep(0.3)  # faulthandler writes at once; the log copier needs a moment

    def _codes(self) -> list[int | None]:
        codes: list[int | None] = []
        for i, proc in enumerate(self._procs):
            if proc.poll() is None:
                codes.append(None)
                continue
            try:  # the supervisor's record (e.g. 143 for a SIGTERMed job), else its own exit code
                codes.append(int(json.loads(self._box.status_file(i).read_text())["exit_code"]))
            except (FileNotFoundError, ValueError, KeyError):
                codes.append(proc.returncode)
        return codes

    def _stop_workers(self, workers: list[int]) -> None:
        for i in workers:
            if self._procs[i].poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._procs[i].send_signal(signal.SIGTERM)  # the supervisor does TERM, grace, KILL
        deadline = time.monotonic() + self.session.stop_grace_period + 5
        for i in workers:
            try:
                self._procs[i].wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # the supervisor itself is stuck: kill it and its job's group
                self._kill_hard(i)

    def _kill_hard(self, worker: int) -> None:
        proc = self._procs[worker]
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            job_pid = int(Path(str(self._box.status_file(worker)) + ".pid").read_text())
            os.killpg(job_pid, signal.SIGKILL)
        proc.wait()

    def _wait_for_change(self, timeout: float | None) -> None:
        """Sleep until a worker exits (or ``timeout``): on Linux its pidfd wakes us the moment it does, where
        ``Popen.wait(timeout)`` would poll with growing sleeps and notice an end up to 50 ms late."""
        running = [p for p in self._procs if p.poll() is None]
        if not running:
            return
        fds: list[int] = []
        try:
            fds = [os.pidfd_open(p.pid) for p in running]
        except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running[0].wait(0.2 if timeout is None else min(0.2, timeout))
            return
        try:
            select.select(fds, [], [], timeout)
        finally:
            for fd in fds:
                os.close(fd)

    def _release(self) -> None:
        for fd in self._pipes:  # the supervisors are gone: their parent-death pipes can close
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pipes = []
        if self._nodes is not None:  # the job's namespaces end, and with them anything of the job still there
            self._nodes.close()

    def _deliver(self) -> None:
        if self._nodes is not None:
            layout = contract.Layout.container(self._box.version)
            # what the platform keeps (train_url, the logs), and a v1 job's own bucket of links (see backend._job_bucket)
            self._lost = self._nodes.lost_writes(kept=[layout.train_url(), layout.log_dir, layout.home / ".obs"])
            self._log_note(*(f"wrote {lost}: online this file is lost; write it under --train_url" for lost in self._lost))
        super()._deliver()

    @property
    def lost_writes(self) -> list[str]:
        return list(self._lost)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "sandboxed": self._nodes is not None, "lost_writes": self.lost_writes,
                "variables": list(self._variables)}

    def _worker_failure(self) -> str | None:
        if self._final is JobPhase.FAILED and self._failed_worker is not None:
            detail = f"worker {self._failed_worker} exited with {self._exit_code}"
            if self._exit_code == contract.OOM_EXIT_CODE:
                detail += " (killed: out of memory)"
            return detail if self._n > 1 or self._exit_code == contract.OOM_EXIT_CODE else None
        return None


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in oskit.children(todo.pop(), every_thread=True):
            found.append(child)
            todo.append(child)
    return found


def _runs(pid: int, script: str) -> bool:
    """Whether ``pid`` is ``python <script> ...`` itself (the launchers carry the script in their argv too)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            args = fh.read().split(b"\0")
    except OSError:
        return False
    return len(args) > 1 and args[1] == script.encode()
