"""The ``local`` backend: each worker is a supervised process on this machine, under the container contract.

Each worker runs ``python -I -S supervisor.py`` in a session of its own, which runs the boot command in a
process group of its own (see :mod:`pytest_modelarts.backends.local.supervisor`): stop, timeout, Ctrl-C and the death of
this process all end the job and everything it started. stdout and stderr of a worker go straight to its
log file (nothing is lost if we die); a follower thread echoes new lines live when the session asks for it.
A multi-node job fails, and its other workers are stopped, as soon as one worker fails.
"""

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

from ...core import contract
from ...core.backend import Backend, BackendRegistry, Execution
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...core.phase import JobPhase
from ...core.runtime import PythonRuntime
from ...core.session import Session
from ...errors import ConfigurationError
from .. import sandbox as sb
from ..workers import WorkerJob

SUPERVISOR = Path(__file__).resolve().parent / "supervisor.py"


class LocalExecution(WorkerJob):
    """Workers as supervised processes; each supervisor writes how its worker ended to a status file."""

    def __init__(self, config: JobConfig, session: Session, sandbox: sb.Sandbox,
                 commands: list[list[str]], envs: list[dict[str, str]], cwds: list[Path]) -> None:
        super().__init__(config, session, sandbox, commands)
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pipes: list[int] = []
        self._follow_logs()
        try:
            for i, (command, env, cwd) in enumerate(zip(commands, envs, cwds, strict=True)):
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
                 str(self.session.stop_grace_period), "--", *command],
                stdin=read_end, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                start_new_session=True, close_fds=True,
            )
        finally:
            os.close(read_end)
            log.close()
        os.set_inheritable(write_end, False)
        self._procs.append(proc)
        self._pipes.append(write_end)

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

    @property
    def failure_reason(self) -> str | None:
        if self._final is JobPhase.FAILED and self._failed_worker is not None:
            detail = f"worker {self._failed_worker} exited with {self._exit_code}"
            if self._exit_code == contract.OOM_EXIT_CODE:
                detail += " (killed: out of memory)"
            return detail if self._n > 1 or self._exit_code == contract.OOM_EXIT_CODE else None
        return None


class LocalBackend(Backend):
    """Boot-file jobs as supervised local processes (one per worker)."""

    name = "local"

    def validate(self, config: JobConfig) -> None:
        if config.is_custom_image:
            raise ConfigurationError(
                f"job {config.job_name!r} uses the custom image {config.user_image_url!r}, which only the "
                "'docker' backend can run; drop backend='local' or run it with backend='docker'"
            )
        if config.code_path is None:
            raise ConfigurationError("the local backend runs a boot file from a local code_dir")
        if config.train_instance_count > 254:
            raise ConfigurationError("the local backend runs at most 254 workers")

    def start(self, config: JobConfig, runtime: PythonRuntime | None, *, job_id: str) -> Execution:
        assert runtime is not None and config.boot_file is not None
        box = sb.create_sandbox(config, job_id, self.session.local_root)
        extra = dict(runtime.env)
        reqs = box.root / "requirements-site"
        sb.install_requirements(runtime.python, box, reqs, box.log_file(0))
        if reqs.exists():
            extra["PYTHONPATH"] = str(reqs)
        hosts = tuple(contract.loopback_hosts(config.train_instance_count))
        commands, envs, cwds = [], [], []
        for i in range(config.train_instance_count):  # each worker in a home of its own, as each node has
            layout = box.layout_of(i)
            argv = contract.boot_argv(str(runtime.python), layout, box.code_name, config.boot_file, config.hyperparameters,
                                      data_url=sb.data_url_for(config, layout.data_url()))
            node = contract.Node(index=i, hosts=hosts)
            env = contract.job_environment(
                layout=layout, job_id=job_id, code_dir_name=box.code_name, node=node, current_ip=node.host,
                extra=extra, inherit=os.environ, path_prefix=runtime.path_prefix,
            )
            env["PYTEST_MODELARTS_RUNTIME"] = runtime.describe()
            commands.append(argv)
            envs.append(env)
            cwds.append(Path(layout.job_dir))
        header = f"[pytest-modelarts] job {config.job_name} ({job_id}) with {runtime.describe()}\n"
        for i in range(config.train_instance_count):
            with open(box.log_file(i), "ab") as fh:
                fh.write(header.encode())
        return LocalExecution(config, self.session, box, commands, envs, cwds)


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(LocalBackend)
