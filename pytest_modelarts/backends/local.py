"""The ``local`` backend: each worker is a supervised process on this machine, under the container contract.

Each worker runs ``python -I _supervisor.py`` in a session of its own, which runs the boot command in a
process group of its own (see :mod:`pytest_modelarts._supervisor`): stop, timeout, Ctrl-C and the death of
this process all end the job and everything it started. stdout and stderr of a worker go straight to its
log file (nothing is lost if we die); a follower thread echoes new lines live when the session asks for it.
A multi-node job fails, and its other workers are stopped, as soon as one worker fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from .. import contract
from ..config import JobConfig
from ..envs.runtime import PythonRuntime
from ..errors import BackendError, ConfigurationError
from ..hookspecs import hookimpl
from ..job import JobPhase
from ..session import Session
from . import sandbox as sb
from .base import Backend, Execution

SUPERVISOR = Path(__file__).resolve().parent.parent / "_supervisor.py"
POLL = 0.05


class LogFollower(threading.Thread):
    """Echoes what is appended to log files, line by line, prefixed with the worker when there are several."""

    def __init__(self, files: list[Path], out: IO[str], prefixes: list[str]) -> None:
        super().__init__(daemon=True, name="modelarts-log-follower")
        self.files = files
        self.out = out
        self.prefixes = prefixes
        self.done = threading.Event()

    def run(self) -> None:
        handles: dict[int, IO[bytes]] = {}
        pending = [b""] * len(self.files)
        try:
            while True:
                finished = self.done.is_set()
                for i, path in enumerate(self.files):
                    if i not in handles:
                        with contextlib.suppress(FileNotFoundError):
                            handles[i] = open(path, "rb")
                    if i in handles:
                        pending[i] += handles[i].read()
                        *lines, pending[i] = pending[i].split(b"\n")
                        if finished and pending[i]:
                            lines.append(pending[i])
                            pending[i] = b""
                        for line in lines:
                            self._emit(self.prefixes[i] + line.decode("utf-8", "replace"))
                if finished:
                    return
                self.done.wait(POLL)
        finally:
            for handle in handles.values():
                handle.close()

    def _emit(self, text: str) -> None:
        with contextlib.suppress(Exception):  # a closed or captured stream must not kill the job's bookkeeping
            self.out.write(text + "\n")
            self.out.flush()


class LocalExecution(Execution):
    def __init__(self, config: JobConfig, session: Session, sandbox: sb.Sandbox,
                 commands: list[list[str]], envs: list[dict[str, str]], cwd: Path) -> None:
        self.config = config
        self.session = session
        self.sandbox = sandbox.root
        self._box = sandbox
        self.command = commands[0]
        self._commands = commands
        self._lock = threading.RLock()
        self._stop_requested = False
        self._final: JobPhase | None = None
        self._exit_code: int | None = None
        self._failed_worker: int | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pipes: list[int] = []
        self._follower: LogFollower | None = None
        if session.stream_logs:
            n = len(commands)
            prefixes = [f"[worker-{i}] " if n > 1 else "" for i in range(n)]
            self._follower = LogFollower([sandbox.log_file(i) for i in range(n)], sys.stdout, prefixes)
            self._follower.start()
        try:
            for i, (command, env) in enumerate(zip(commands, envs)):
                self._spawn(i, command, env, cwd)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, worker: int, command: list[str], env: dict[str, str], cwd: Path) -> None:
        read_end, write_end = os.pipe()
        log = open(self._box.log_file(worker), "ab")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(SUPERVISOR), str(self._box.status_file(worker)),
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

    # -- state ----------------------------------------------------------------------------------------
    def _worker_status(self, worker: int) -> dict[str, Any] | None:
        try:
            return json.loads(self._box.status_file(worker).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _refresh(self) -> JobPhase:
        with self._lock:
            if self._final is not None:
                return self._final
            codes = [p.poll() for p in self._procs]
            failed = next((i for i, c in enumerate(codes) if c not in (None, 0)), None)
            if failed is not None and not self._stop_requested and any(c is None for c in codes):
                # one worker failed: the job fails and the others are stopped, as on ModelArts
                self._failed_worker = failed
                self._terminate_all()
                codes = [p.poll() for p in self._procs]
            if any(c is None for c in codes):
                return JobPhase.TERMINATING if self._stop_requested else JobPhase.RUNNING
            return self._finish(codes)

    def _finish(self, codes: list[int | None]) -> JobPhase:
        statuses = [self._worker_status(i) for i in range(len(codes))]
        exit_codes = [s["exit_code"] if s else c for s, c in zip(statuses, codes)]
        if self._failed_worker is None and not self._stop_requested:
            self._failed_worker = next((i for i, c in enumerate(exit_codes) if c != 0), None)
        if self._failed_worker is not None:
            phase, self._exit_code = JobPhase.FAILED, exit_codes[self._failed_worker]
        elif self._stop_requested:
            phase, self._exit_code = JobPhase.TERMINATED, next((c for c in exit_codes if c != 0), 0)
        else:
            phase, self._exit_code = JobPhase.COMPLETED, 0
        for fd in self._pipes:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pipes = []
        if self._follower is not None:
            self._follower.done.set()
            self._follower.join(timeout=5)
        try:
            sb.deliver(self.config, self._box)
        finally:
            self._final = phase
        return phase

    def phase(self) -> JobPhase:
        return self._refresh()

    def wait(self, timeout: float | None = None) -> JobPhase:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            phase = self._refresh()
            if phase.is_final:
                return phase
            if deadline is not None and time.monotonic() >= deadline:
                return phase
            # block on the first still-running worker, but wake up to notice another worker failing
            running = next(p for p in self._procs if p.poll() is None)
            step = 0.2 if len(self._procs) > 1 else None
            if deadline is not None:
                left = max(0.0, deadline - time.monotonic())
                step = left if step is None else min(step, left)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.wait(step)

    def _terminate_all(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.session.stop_grace_period + 5
        for i, proc in enumerate(self._procs):
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # the supervisor itself is stuck: kill it and its job's group
                self._kill_hard(i, proc)

    def _kill_hard(self, worker: int, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            job_pid = int(Path(str(self._box.status_file(worker)) + ".pid").read_text())
            os.killpg(job_pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        with self._lock:
            if self._refresh().is_final:
                return
            self._stop_requested = True
            self._terminate_all()
            self._refresh()

    # -- results --------------------------------------------------------------------------------------
    @property
    def exit_code(self) -> int | None:
        self._refresh()
        return self._exit_code

    @property
    def failure_reason(self) -> str | None:
        if self._final is JobPhase.FAILED and self._failed_worker is not None:
            detail = f"worker {self._failed_worker} exited with {self._exit_code}"
            if self._exit_code == contract.OOM_EXIT_CODE:
                detail += " (killed: out of memory)"
            return detail if len(self._procs) > 1 or self._exit_code == contract.OOM_EXIT_CODE else None
        return None

    def log_names(self) -> list[str]:
        return [self._box.log_name(i) for i in range(len(self._commands))]

    def read_log(self, name: str | None = None, offset: int = 0, size: int | None = None) -> bytes:
        name = name or self.log_names()[0]
        if name not in self.log_names():
            raise BackendError(f"no log {name!r}; the logs are: {', '.join(self.log_names())}")
        path = self._box.log_dir / name
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                return fh.read() if size is None else fh.read(size)
        except FileNotFoundError:
            return b""

    @property
    def output_location(self) -> str:
        return str(sb.output_location(self.config, self._box))

    def info(self) -> dict[str, Any]:
        return {"sandbox": str(self._box.root), "command": list(self.command),
                "log_files": [str(self._box.log_file(i)) for i in range(len(self._commands))]}


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
        layout = box.layout
        extra = dict(runtime.env)
        reqs = box.root / "requirements-site"
        sb.install_requirements(runtime.python, box, reqs, box.log_file(0))
        if reqs.exists():
            extra["PYTHONPATH"] = str(reqs)
        hosts = tuple(contract.loopback_hosts(config.train_instance_count))
        argv = contract.boot_argv(str(runtime.python), layout, box.code_name, config.boot_file, config.hyperparameters)
        argv[argv.index(f"--data_url={layout.data_url()}")] = f"--data_url={sb.data_url_for(config, layout.data_url())}"
        commands, envs = [], []
        for i in range(config.train_instance_count):
            node = contract.Node(index=i, hosts=hosts)
            env = contract.job_environment(
                layout=layout, job_id=job_id, code_dir_name=box.code_name, node=node, current_ip=node.host,
                extra=extra, inherit=os.environ, path_prefix=runtime.path_prefix,
            )
            env["PYTEST_MODELARTS_RUNTIME"] = runtime.describe()
            commands.append(argv)
            envs.append(env)
        header = f"[pytest-modelarts] job {config.job_name} ({job_id}) with {runtime.describe()}\n"
        for i in range(config.train_instance_count):
            with open(box.log_file(i), "ab") as fh:
                fh.write(header.encode())
        return LocalExecution(config, self.session, box, commands, envs, cwd=Path(layout.job_dir))


@hookimpl
def pytest_modelarts_register_backends(registry) -> None:  # type: ignore[no-untyped-def]
    registry.register(LocalBackend)
