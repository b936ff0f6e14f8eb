"""A local job's execution: one supervised process per worker (see :mod:`.supervisor`), in a node or relocated."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ...core import contract, oskit
from ...core.flavors import Usage
from ...core.job import JobConfig
from ...core.phase import JobPhase
from ...core.session import Session
from .. import sandbox as sb
from ..workers import WorkerJob
from . import relocated
from .limits import JobGroups
from .nodes import JobNodes
from .standby import Standby, own_environment
from .supervisor import encode_request

SUPERVISOR = Path(__file__).resolve().parent / "supervisor.py"


def start_supervisor() -> subprocess.Popen[bytes]:
    """A supervisor, waiting for its job on stdin (see :mod:`.supervisor`), in a session of its own."""
    return subprocess.Popen([sys.executable, "-I", "-S", str(SUPERVISOR)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", start_new_session=True,
                            env=own_environment())


#: the next workers' supervisors, already started: an interpreter's start is off the job's path. Two wait, so that
#: a job that follows another at once (a test's next job) finds one ready while the other's successor starts.
SUPERVISORS = Standby(start_supervisor, depth=2)


class LocalExecution(WorkerJob):
    """Workers as supervised processes; each supervisor writes how its worker ended to a status file."""

    def __init__(self, config: JobConfig, session: Session, sandbox: sb.Sandbox,
                 commands: list[list[str]], envs: list[dict[str, str]], cwds: list[Path],
                 *, launchers: list[list[str]] | None = None, nodes: JobNodes | None = None,
                 variables: list[str] | None = None, groups: JobGroups | None = None) -> None:
        super().__init__(config, session, sandbox, commands)
        self._groups = groups
        self._procs: list[subprocess.Popen[bytes]] = []
        self._nodes = nodes
        self._lost: list[str] = []
        self._variables = variables or []
        # relocated workers write into their tree directly: listed now, compared at the end (lost writes)
        self._before = relocated.snapshot(sandbox, len(commands)) if nodes is None else None
        self._follow_logs()
        SUPERVISORS.expect(len(commands))  # the next job of as many workers finds all its supervisors started
        try:
            for i, (command, env, cwd) in enumerate(zip(launchers or commands, envs, cwds, strict=True)):
                self._spawn(i, command, env, cwd)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, worker: int, command: list[str], env: dict[str, str], cwd: Path) -> None:
        proc = SUPERVISORS.take()
        assert proc.stdin is not None
        request = encode_request(str(self._box.status_file(worker)), self.session.stop_grace_period, contract.log_limit(),
                                 command, env, str(cwd), str(self._box.log_file(worker)),
                                 self._groups.procs(worker) if self._groups else None,
                                 self._groups.affinity if self._groups else None)
        self._procs.append(proc)  # before the write: should it fail, stop() still ends this supervisor
        proc.stdin.write(request)
        proc.stdin.flush()  # the pipe stays open: its EOF tells the supervisor that we are gone

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
        """Sleep until a worker exits (or ``timeout``)."""
        running = [p for p in self._procs if p.poll() is None]
        if running:
            oskit.wait_for_exit(running, timeout)

    def _release(self) -> None:
        if self._groups is not None:  # every worker ended: its peak and OOM kills are final (read before removal)
            self._groups.read_usage()
        for proc in self._procs:  # the supervisors are gone: their parent-death pipes can close
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()
        if self._nodes is not None:  # the job's namespaces end, and with them anything of the job still there;
            self._nodes.end()  # their teardown overlaps the delivery, which waits for it at its end

    def _deliver(self) -> None:
        try:
            if self._nodes is not None:
                layout = self._box.contract.layout()
                # what the platform keeps (train_url, the logs), and a v1 job's own bucket of links (see sandbox._bucket_links)
                self._lost = self._nodes.lost_writes(kept=[layout.train_url(), layout.log_dir, layout.home / ".obs"])
            elif self._before is not None:
                self._lost = relocated.lost_writes(self._box, self._before)
            self._log_note(*(f"wrote {lost}: online this file is lost; write it under --train_url" for lost in self._lost))
            super()._deliver()
        finally:
            if self._nodes is not None:
                self._nodes.close()
            if self._groups is not None:  # empty now: the job's namespaces ended with its holder
                self._groups.remove()
            # the next job's supervisor and holder start now, not while this job started: then they took the cores
            # from its start (measured); in a thread: this job's end need not wait for their start
            SUPERVISORS.refill_soon()
            if self._nodes is not None:
                self._nodes.refill()

    @property
    def lost_writes(self) -> list[str]:
        return list(self._lost)

    def usage(self) -> Usage | None:
        groups = self._groups
        return Usage(tuple(groups.peaks()), groups.limits) if groups is not None and groups.groups and self._final else None

    def info(self) -> dict[str, Any]:
        return {**super().info(), "sandboxed": self._nodes is not None, "lost_writes": self.lost_writes,
                "variables": list(self._variables),
                "peak_memory": list(usage.peaks) if (usage := self.usage()) is not None else None}

    def _worker_failure(self) -> str | None:
        if self._final is JobPhase.FAILED and self._failed_worker is not None:
            detail = f"worker {self._failed_worker} exited with {self._exit_code}"
            groups = self._groups
            if groups is not None and groups.oom_killed(self._failed_worker):  # the kernel's word, not just the code
                oom = groups.limits.oom_text(groups.peaks()[self._failed_worker])
                return f"{oom} ({detail})" if self._n > 1 else oom
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
