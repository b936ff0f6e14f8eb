"""The ``docker`` backend: each worker is a Docker container that follows the ModelArts container contract.

Used for custom-image jobs (``user_image_url``) and for any local job with ``backend="docker"``. Decisions
(also in docs/containers.md):

* **Image.** ``user_image_url``; a boot-file job without one runs in the image named by the session
  attribute ``docker_image`` or the environment variable :data:`IMAGE_VARIABLE`, and is refused otherwise.
  The image must be present or pullable; else :class:`~pytest_modelarts.errors.BackendError` names it and
  how to provide it. The image brings its own interpreter: the Environment is not built for it.
* **Files.** The sandbox's ``home/modelarts`` is bind-mounted at ``MA_MOUNT_PATH`` (code, inputs, outputs and
  logs, the real paths); each worker gets a scratch directory at ``/cache``. The working directory is
  ``MA_JOB_DIR``. Directories of the mount are made world-writable so that any image user can write.
* **Command.** A boot file runs as ``python <MA_JOB_DIR>/<code>/<boot file> --data_url=.. --train_url=.. ..``
  (``python`` of the image). ``user_command`` replaces the image's entrypoint (as the command of a
  Kubernetes container does). It is split with :func:`shlex.split` and executed directly, not through a
  shell; ``$VAR``/``${VAR}`` naming a variable of the job are substituted first. A command that uses shell
  syntax (``|``, ``&&``, ``;``, redirections, ``$(...)``, backquotes) *is* a shell command and runs as
  ``/bin/sh -c <command>``; so does one that starts with a shell itself, naturally.
* **Variables.** The contract's (``contract.job_environment`` with the container layout and the contract's
  host names); for custom-image jobs each hyperparameter is also a variable ``<label>=<value>``, as the
  seed's Estimator table says, while boot-file jobs get them as ``--label=value``.
* **Network.** Each job has a bridge network of its own, ``pytest-modelarts-<job id>``, on which worker
  ``i`` is ``${MA_VJ_NAME}-worker-<i>.${MA_VJ_NAME}`` (also its short name) at a fixed address, which is its
  ``MA_CURRENT_IP``. ``network_mode="none"``: no network at all. A multi-node job's workers share one network
  namespace with only a loopback interface, held by a *pause* container (as Kubernetes holds a pod's; the
  image ``pytest-modelarts/pause`` is made locally from a 129-byte static program, x86-64 only; elsewhere
  worker 0's namespace serves) so that workers may start and end in any order; worker ``i`` is
  ``127.0.0.<i+1>`` there (as with the process backend), its host names mapped to that address. (An
  ``internal`` Docker network would still let the job reach the host's own addresses.) The workers then
  share worker 0's host name.
* **Ownership.** After the job, what it wrote under the mount is given to the invoking user's uid:gid (or
  the ``uid:gid`` in :data:`OWNER_VARIABLE`): directly when we are root, else by a short helper container of
  the same image run as root (``chown -R``; the image needs ``chown``). Outputs are then copied to
  ``output_path`` and given to the same owner.
* **Cleanup.** Every container and network carries the labels ``pytest-modelarts.job``, ``.job-id``,
  ``.owner`` (host, pid and start time of the process that made it) and ``.created``. They are removed when
  the job ends (completed, failed, stopped, timed out, Ctrl-C) and at interpreter exit; after a SIGKILL,
  :func:`cleanup_leftovers` (run at the start of the next ``pytest --modelarts`` and by
  ``pytest-modelarts clean``) removes those whose owner is dead.
* **Resources.** ``cpus`` → CPU quota, ``memory`` → memory limit without swap; a worker killed with exit
  137 (OOM-killed, or SIGKILLed by no one of ours) failed with "out of memory", as ModelArts reports it.
  ``gpus`` become a device request, refused on a host without GPUs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import signal
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import contract
from ..config import JobConfig
from ..errors import BackendError, ConfigurationError
from ..hookspecs import hookimpl
from ..job import JobPhase
from . import sandbox as sb
from .base import Backend, Execution
from .workers import WorkerJob

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from ..envs.runtime import PythonRuntime

IMAGE_VARIABLE = "PYTEST_MODELARTS_DOCKER_IMAGE"
OWNER_VARIABLE = "PYTEST_MODELARTS_OUTPUT_OWNER"
LABEL = "pytest-modelarts"
LABEL_JOB = f"{LABEL}.job"
LABEL_JOB_ID = f"{LABEL}.job-id"
LABEL_WORKER = f"{LABEL}.worker"
LABEL_OWNER = f"{LABEL}.owner"
LABEL_CREATED = f"{LABEL}.created"
CACHE_PATH = "/cache"
_SHELL_SYNTAX = re.compile(r"[|&;<>`]|\$\(")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


# -- the daemon ---------------------------------------------------------------------------------------------

def docker_client() -> docker.DockerClient:
    """A client of the daemon ``DOCKER_HOST`` names (default: the local socket), checked to answer."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise BackendError("the docker backend needs the Docker SDK for Python: pip install docker") from exc
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise BackendError(
            f"no Docker daemon answers at {where} ({exc.__class__.__name__}: {exc}); start the Docker daemon, "
            "set DOCKER_HOST, or run boot-file jobs with backend='local'"
        ) from None
    return client


def docker_available() -> str | None:
    """None when a Docker daemon answers, else why not (for skip messages)."""
    try:
        docker_client().close()
    except BackendError as exc:
        return str(exc)
    return None


# -- who owns what: labels ------------------------------------------------------------------------------------

def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()[19].decode()


def _owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_ticks(pid) or '?'}"


def _owner_alive(token: str) -> bool:
    """Whether the process that made a resource still runs (unknown hosts count as alive)."""
    try:
        host, pid, ticks = token.split("/")
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_ticks(int(pid)) == ticks


# A process that creates containers leaves a note here while it may own some, so that the next run's
# start-up asks Docker for leftovers only when a noted owner died (and imports no Docker SDK otherwise).
OWNERS_VARIABLE = "PYTEST_MODELARTS_DOCKER_OWNERS"
_owner_noted = False


def _owners_dir() -> Path:
    override = os.environ.get(OWNERS_VARIABLE)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pytest-modelarts")) / "docker-owners"


def _note_owner() -> None:
    global _owner_noted
    if _owner_noted:
        return
    token = _owner_token()
    with contextlib.suppress(OSError):
        folder = _owners_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / token.replace("/", "-")).write_text(token)
        _owner_noted = True


def _forget_owner() -> None:
    with contextlib.suppress(OSError):
        (_owners_dir() / _owner_token().replace("/", "-")).unlink(missing_ok=True)


def leftovers_possible() -> bool:
    """Whether a process noted as owning containers has died (so :func:`cleanup_leftovers` has work)."""
    try:
        notes = list(_owners_dir().iterdir())
    except OSError:
        return False
    return any(not _owner_alive(n.read_text()) for n in notes if n.is_file())


def _forget_dead_owners() -> None:
    with contextlib.suppress(OSError):
        for note in _owners_dir().iterdir():
            with contextlib.suppress(OSError):
                if not _owner_alive(note.read_text()):
                    note.unlink()


PAUSE_REPOSITORY = f"{LABEL}/pause"


def _pause_program() -> bytes | None:
    """A static x86-64 Linux program that sleeps in ``pause()`` forever (129 bytes), or None on another machine.

    It is the body of the network-namespace holder of offline multi-node jobs, the role Kubernetes gives its
    pause container. Written here because no image can be pulled: ELF header, one loadable segment, and
    ``loop: mov eax, 34 (pause); syscall; jmp loop``.
    """
    import platform
    import struct

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    base, header_size = 0x400000, 64 + 56
    code = bytes.fromhex("b822000000" "0f05" "ebf7")
    size = header_size + len(code)
    elf = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    elf += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, base + header_size, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    elf += struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return elf + code


def ensure_pause_image(client: docker.DockerClient) -> str | None:
    """The local pause image (imported once, tagged by content), or None where :func:`_pause_program` has none."""
    import hashlib
    import io
    import tarfile

    import docker.errors

    program = _pause_program()
    if program is None:
        return None
    tag = hashlib.sha256(program).hexdigest()[:12]
    ref = f"{PAUSE_REPOSITORY}:{tag}"
    try:
        client.images.get(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        info.size, info.mode = len(program), 0o755
        tar.addfile(info, io.BytesIO(program))
    client.api.import_image_from_data(buf.getvalue(), repository=PAUSE_REPOSITORY, tag=tag)
    return ref


def _labels(config: JobConfig, job_id: str, **extra: str) -> dict[str, str]:
    return {LABEL: "1", LABEL_JOB: config.job_name, LABEL_JOB_ID: job_id, LABEL_OWNER: _owner_token(),
            LABEL_CREATED: str(int(time.time())), **extra}


@dataclass
class CleanupReport:
    """What :func:`cleanup_leftovers` removed (names), or why it could not look."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"nothing removed: {self.error}"
        return f"removed {len(self.containers)} container(s) and {len(self.networks)} network(s)"


def cleanup_leftovers(*, everything: bool = False, client: docker.DockerClient | None = None) -> CleanupReport:
    """Remove the containers and networks of jobs whose owning process is dead (all of ours with ``everything``).

    Never raises for an absent daemon: the report's ``error`` says why nothing was looked at. Resources of a
    process that still runs (this one, another pytest run) are left alone unless ``everything`` is given.
    """
    report = CleanupReport()
    own = client is None
    try:
        client = client or docker_client()
    except BackendError as exc:
        report.error = str(exc)
        return report
    import docker.errors

    def gone(exc: docker.errors.APIError) -> bool:
        # 404: already removed; 409: another run's clean-up is removing it right now
        return exc.status_code in (404, 409)

    try:
        for container in client.containers.list(all=True, filters={"label": LABEL}):
            if everything or not _owner_alive(container.labels.get(LABEL_OWNER, "")):
                try:
                    container.remove(force=True)
                    report.containers.append(container.name)
                except docker.errors.APIError as exc:
                    if not gone(exc):
                        raise
        for network in client.networks.list(filters={"label": LABEL}):
            if everything or not _owner_alive((network.attrs.get("Labels") or {}).get(LABEL_OWNER, "")):
                for attempt in range(20):
                    try:
                        network.remove()
                        report.networks.append(network.name)
                        break
                    except docker.errors.APIError as exc:
                        if gone(exc):
                            break
                        if exc.status_code != 403 or attempt == 19:  # 403: endpoints still detaching
                            raise
                        time.sleep(0.1)
        _forget_dead_owners()  # their resources are gone
    finally:
        if own:
            client.close()
    return report


# -- commands ---------------------------------------------------------------------------------------------------

def is_shell_command(command: str) -> bool:
    """True when ``command`` uses shell syntax outside quotes (pipes, ``&&``, ``;``, redirections, ``$(``)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    if any(t and set(t) <= set("|&;<>()") for t in tokens):
        return True
    # backquotes and $( inside double quotes are still the shell's business
    return "`" in command or "$(" in command


def command_argv(command: str, env: dict[str, str]) -> list[str]:
    """The argv that runs ``user_command``: exec form with the job's variables substituted, or ``/bin/sh -c``."""
    if is_shell_command(command):
        return ["/bin/sh", "-c", command]

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return [_VARIABLE.sub(expand, arg) for arg in shlex.split(command)]


def _host_gpus() -> int:
    return len([p for p in Path("/dev").glob("nvidia[0-9]*")]) if Path("/dev").is_dir() else 0


def _memory_bytes(size: str) -> int:
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    size = size.lower()
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


# -- one worker --------------------------------------------------------------------------------------------------

class _Worker:
    """A container, the thread that copies its output into its log file and then waits for its end."""

    def __init__(self, index: int, container: Container, log_file: Path, on_end: threading.Condition) -> None:
        self.index = index
        self.container = container
        self.log_file = log_file
        self.exit_code: int | None = None
        self.oom_killed = False
        self.error: str | None = None
        self._on_end = on_end
        self.thread = threading.Thread(target=self._follow, daemon=True, name=f"modelarts-docker-{index}")

    @property
    def done(self) -> bool:
        return self.exit_code is not None

    def _follow(self) -> None:
        try:
            with open(self.log_file, "ab") as log:
                for chunk in self.container.logs(stream=True, follow=True, stdout=True, stderr=True):
                    log.write(chunk)
                    log.flush()
            result = self.container.wait()
            self.container.reload()
            state = self.container.attrs.get("State", {})
            self.oom_killed = bool(state.get("OOMKilled"))
            code = int(result.get("StatusCode", state.get("ExitCode", -1)))
        except Exception as exc:  # the daemon went away, the container was removed under us
            self.error = f"{exc.__class__.__name__}: {exc}"
            code = -1
        with self._on_end:
            self.exit_code = code
            self._on_end.notify_all()


_LIVE: weakref.WeakSet[DockerExecution] = weakref.WeakSet()


@atexit.register
def _remove_live() -> None:
    """At interpreter exit (an uncaught exception, a Ctrl-C outside wait()), no container of ours survives."""
    for execution in list(_LIVE):
        with contextlib.suppress(Exception):
            execution._remove_resources(force=True)
    if _owner_noted:
        _forget_owner()


def _install_sigterm_cleanup() -> None:
    """SIGTERM kills Python without atexit: remove our containers first, then die of the signal as before.

    Only where nobody handles SIGTERM already (the default action), and only from the main thread.
    SIGKILL cannot be caught: its leftovers are removed when the next run starts (cleanup_leftovers).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum: int, frame: object) -> None:
        _remove_live()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


class DockerExecution(WorkerJob):
    """Workers as containers on a network of the job's own; a thread per container copies its output to the log."""

    def __init__(self, config: JobConfig, backend: DockerBackend, box: sb.Sandbox, image: str,
                 client: docker.DockerClient, commands: list[list[str]]) -> None:
        super().__init__(config, backend.session, box, commands)
        self.image = image
        self._client = client
        self._ended = threading.Condition()
        self._workers: list[_Worker] = []
        self._network: Network | None = None
        self._holder: Container | None = None  # holds the loopback-only namespace of an offline job
        self._stopped_by_us: set[int] = set()
        self._notes: list[str] = []
        _note_owner()
        _LIVE.add(self)
        _install_sigterm_cleanup()

    # -- start ----------------------------------------------------------------------------------------
    def _launch(self, specs: list[dict[str, Any]], network: Network | None, holder: dict[str, Any] | None) -> None:
        self._network = network
        try:
            if holder is not None:
                self._holder = self._client.containers.create(**holder)
                self._holder.start()
            for i, spec in enumerate(specs):
                container = self._client.containers.create(**spec)
                self._workers.append(_Worker(i, container, self._box.log_file(i), self._ended))
            self._follow_logs()
            for worker in self._workers:
                worker.container.start()
                worker.thread.start()
        except BaseException:
            self._stop_requested = True
            self._remove_resources(force=True)
            raise

    # -- what the shared bookkeeping asks of us -----------------------------------------------------------
    def _codes(self) -> list[int | None]:
        return [self._worker_code(w) if w.done else None for w in self._workers]

    def _worker_code(self, worker: _Worker) -> int:
        if worker.oom_killed:
            return contract.OOM_EXIT_CODE
        return worker.exit_code if worker.exit_code is not None else -1

    def _is_oom(self, worker: _Worker) -> bool:
        return worker.oom_killed or (worker.exit_code == contract.OOM_EXIT_CODE and worker.index not in self._stopped_by_us)

    def _wait_for_change(self, timeout: float | None) -> None:
        with self._ended:
            self._ended.wait(0.5 if timeout is None else min(0.5, timeout))

    def _stop_workers(self, workers: list[int]) -> None:
        """``docker stop`` (SIGTERM, the grace period, SIGKILL) every worker given, in parallel; wait for them."""
        import docker.errors

        grace = max(0, int(round(self.session.stop_grace_period)))
        chosen = [self._workers[i] for i in workers]

        def stop(worker: _Worker) -> None:
            self._stopped_by_us.add(worker.index)
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                worker.container.stop(timeout=grace)

        threads = [threading.Thread(target=stop, args=(w,), daemon=True) for w in chosen if not w.done]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for worker in chosen:
            worker.thread.join(timeout=grace + 30)

    def _release(self) -> None:
        try:
            for worker in self._workers:
                worker.thread.join(timeout=10)
            self._remove_resources(force=True)
            self._give_outputs_away()
        finally:
            _LIVE.discard(self)

    def _deliver(self) -> None:
        super()._deliver()
        self._give_delivered_away()

    # -- resources ---------------------------------------------------------------------------------------
    def _remove_resources(self, *, force: bool) -> None:
        import docker.errors

        for worker in self._workers:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                worker.container.remove(force=force)
        if self._holder is not None:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                self._holder.remove(force=True)
            self._holder = None
        if self._network is not None:
            for attempt in range(20):
                try:
                    self._network.remove()
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError:  # endpoints still detaching
                    time.sleep(0.1 * (attempt + 1))
            self._network = None

    def _owner(self) -> tuple[int, int]:
        return output_owner()

    def _give_outputs_away(self) -> None:
        for worker in range(self._box.workers):
            self._give_away(self._box.mount(worker))

    def _give_away(self, mount: Path) -> None:
        uid, gid = self._owner()
        if os.geteuid() == 0:
            _chown_tree(mount, uid, gid)
            return
        if all(p.lstat().st_uid == uid for p in _walk(mount)):
            return
        import docker.errors

        try:
            self._client.containers.run(
                self.image, entrypoint=["chown", "-R", f"{uid}:{gid}", "/target"], user="0:0",
                network_mode="none", remove=True, labels=_labels(self.config, self._box.job_id, **{LABEL_WORKER: "chown"}),
                volumes={str(mount): {"bind": "/target", "mode": "rw"}},
            )
        except (docker.errors.ContainerError, docker.errors.APIError) as exc:
            self._note(f"could not give the job's files to {uid}:{gid} with 'chown' in {self.image}: {exc}")

    def _give_delivered_away(self) -> None:
        if os.geteuid() != 0:
            return  # our copies are ours already
        uid, gid = self._owner()
        target = sb.output_location(self.config, self._box)
        os.chown(target, uid, gid)
        for worker in range(self._box.workers):
            train_url = self._box.train_url(worker)
            for path in _walk(train_url):
                with contextlib.suppress(FileNotFoundError):
                    os.lchown(target / path.relative_to(train_url), uid, gid)

    def _note(self, text: str) -> None:
        self._notes.append(text)
        with contextlib.suppress(OSError), open(self._box.log_file(0), "ab") as fh:
            fh.write(f"[pytest-modelarts] {text}\n".encode())

    # -- results ---------------------------------------------------------------------------------------
    @property
    def failure_reason(self) -> str | None:
        if self._final is not JobPhase.FAILED or self._failed_worker is None:
            return None
        worker = self._workers[self._failed_worker]
        detail = f"worker {worker.index} exited with {self._exit_code}" if len(self._workers) > 1 else ""
        if self._is_oom(worker):
            return "out of memory" + (f" ({detail})" if detail else "")
        if worker.error:
            return f"lost track of worker {worker.index}: {worker.error}"
        return detail or None

    def info(self) -> dict[str, Any]:
        return {**super().info(), "image": self.image, "containers": [w.container.name for w in self._workers],
                "network": self._network.name if self._network is not None else None, "notes": list(self._notes)}


def _walk(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    yield root
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(base) / name


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in _walk(root):
        with contextlib.suppress(FileNotFoundError):
            os.lchown(path, uid, gid)


def output_owner() -> tuple[int, int]:
    """Who the job's output files are given to: :data:`OWNER_VARIABLE` (``uid[:gid]``), else the invoking user."""
    value = os.environ.get(OWNER_VARIABLE)
    if not value:
        return os.getuid(), os.getgid()
    m = re.match(r"^(\d+)(?::(\d+))?$", value)
    if not m:
        raise ConfigurationError(f"{OWNER_VARIABLE}={value!r}: must be 'uid' or 'uid:gid' (numbers)")
    uid = int(m.group(1))
    return uid, int(m.group(2)) if m.group(2) else uid


# -- the backend -------------------------------------------------------------------------------------------------

class DockerBackend(Backend):
    """Local jobs in Docker containers, one per worker, on a network of the job's own."""

    name = "docker"
    needs_runtime = False  # the image brings its own interpreter

    def image_for(self, config: JobConfig) -> str:
        image = config.user_image_url or self.session.docker_image or os.environ.get(IMAGE_VARIABLE)
        if not image:
            raise ConfigurationError(
                f"job {config.job_name!r} runs a boot file in Docker but names no image: pass user_image_url=... "
                f"(an image with python), or set the environment variable {IMAGE_VARIABLE}=<image>, or run it "
                "with backend='local'"
            )
        return image

    def validate(self, config: JobConfig) -> None:
        self.image_for(config)
        if not config.is_custom_image and config.code_path is None:
            raise ConfigurationError("the docker backend runs a boot file from a local code_dir")
        if config.code_dir is not None and config.code_path is None:
            raise ConfigurationError(f"code_dir={config.code_dir!r}: the docker backend mounts a local code_dir")
        if config.user_command is not None:
            try:
                shlex.split(config.user_command)
            except ValueError as exc:
                raise ConfigurationError(f"user_command={config.user_command!r} cannot be split into arguments: {exc}") from None
        if config.container.gpus and not _host_gpus():
            raise ConfigurationError(
                f"ContainerOptions(gpus={config.container.gpus}) but this host has no NVIDIA GPU (/dev/nvidia*); "
                "drop gpus= to run on CPU"
            )
        if config.container.memory is not None and _memory_bytes(config.container.memory) < 6 * 1024**2:
            raise ConfigurationError(f"ContainerOptions(memory={config.container.memory!r}): Docker needs at least 6m")

    def _ensure_image(self, client: docker.DockerClient, image: str) -> None:
        import docker.errors

        try:
            client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            client.images.pull(image)
        except docker.errors.APIError as exc:
            reason = getattr(exc, "explanation", None) or str(exc)
            raise BackendError(
                f"image {image!r} is not present locally and could not be pulled ({reason}); build it "
                f"('docker build -t {image} .'), load it ('docker load -i <file>'), or log in to its registry "
                "('docker login') and try again"
            ) from None

    def _create_network(self, client: docker.DockerClient, config: JobConfig, job_id: str) -> tuple[Network, list[str]]:
        """A bridge network of the job's own with an explicit subnet, so that workers have fixed addresses."""
        import ipaddress

        import docker.errors
        import docker.types

        name = f"{LABEL}-{job_id}"
        labels = _labels(config, job_id)
        last: Exception | None = None
        for _ in range(5):
            # let the daemon pick a free subnet, then pin it: fixed addresses need a user-configured subnet
            probe = client.networks.create(name, driver="bridge", labels=labels)
            try:
                probe.reload()
                subnet = probe.attrs["IPAM"]["Config"][0]["Subnet"]
            finally:
                probe.remove()
            net = ipaddress.ip_network(subnet)
            hosts = net.hosts()
            gateway = str(next(hosts))
            addresses = [str(next(hosts)) for _ in range(config.train_instance_count)]
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)])
            try:
                return client.networks.create(name, driver="bridge", labels=labels, ipam=ipam), addresses
            except docker.errors.APIError as exc:  # another network took the subnet meanwhile
                last = exc
        raise BackendError(f"could not create the network of job {config.job_name!r}: {last}")

    def start(self, config: JobConfig, runtime: PythonRuntime | None, *, job_id: str) -> Execution:
        import docker.types

        image = self.image_for(config)
        client = docker_client()
        self._ensure_image(client, image)
        box = sb.create_sandbox(config, job_id, self.session.local_root)
        layout = contract.Layout.container()
        for worker in range(box.workers):  # any uid the image runs as may write there
            for path in _walk(box.mount(worker)):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o777)
        count = config.train_instance_count
        options = config.container
        hosts = tuple(contract.worker_hostnames(job_id, count))
        offline = options.network_mode == "none"
        network: Network | None = None
        holder: dict[str, Any] | None = None
        if offline:
            addresses = contract.loopback_hosts(count)
            pause = ensure_pause_image(client) if count > 1 else None
            if pause is not None:
                short0, _, domain0 = hosts[0].partition(".")
                holder = dict(
                    image=pause, entrypoint=["/pause"], name=f"{LABEL}-{job_id}-netns", hostname=short0,
                    domainname=domain0, network_mode="none", detach=True,
                    labels=_labels(config, job_id, **{LABEL_WORKER: "netns"}),
                    extra_hosts={name: addresses[j] for j, host in enumerate(hosts) for name in (host, host.split(".")[0])},
                )
        else:
            network, addresses = self._create_network(client, config, job_id)
        num_gpus = (options.gpus if options.gpus and options.gpus > 0 else _host_gpus() if options.gpus else 0)
        extra = dict(config.hyperparameters) if config.is_custom_image else {}

        specs: list[dict[str, Any]] = []
        commands: list[list[str]] = []
        for i in range(count):
            node = contract.Node(index=i, hosts=hosts)
            env = contract.job_environment(layout=layout, job_id=job_id, code_dir_name=box.code_name, node=node,
                                           current_ip=addresses[i], num_gpus=num_gpus, extra=extra,
                                           inherit=os.environ)
            if config.user_command is not None:
                argv = command_argv(config.user_command, env)
            else:
                assert config.boot_file is not None
                argv = contract.boot_argv("python", layout, box.code_name, config.boot_file, config.hyperparameters, num_gpus,
                                          data_url=sb.data_url_for(config, layout.data_url()))
            commands.append(argv)
            cache = box.root / "cache" / f"worker-{i}"
            cache.mkdir(parents=True)
            cache.chmod(0o1777)
            short, _, domain = hosts[i].partition(".")
            spec: dict[str, Any] = dict(
                image=image, entrypoint=argv[:1], command=argv[1:], environment=env,
                name=f"{LABEL}-{job_id}-worker-{i}", hostname=short, domainname=domain,
                working_dir=str(layout.job_dir), labels=_labels(config, job_id, **{LABEL_WORKER: str(i)}),
                user=options.user, detach=True,
                mounts=[docker.types.Mount(str(layout.mount), str(box.mount(i)), type="bind"),
                        docker.types.Mount(CACHE_PATH, str(cache), type="bind")],
            )
            if network is not None:
                spec["network"] = network.name
                spec["networking_config"] = {network.name: client.api.create_endpoint_config(
                    aliases=[hosts[i], short], ipv4_address=addresses[i])}
            elif holder is not None:  # every worker joins the holder's loopback-only namespace, host names and all
                spec["network_mode"] = f"container:{holder['name']}"
                del spec["hostname"], spec["domainname"]
            elif i == 0:
                spec["network_mode"] = "none"
                spec["extra_hosts"] = {name: addresses[j] for j, host in enumerate(hosts) for name in (host, host.split(".")[0])}
            else:  # no pause program for this machine: worker 0's namespace (it must outlive the others' start)
                spec["network_mode"] = f"container:{specs[0]['name']}"
                del spec["hostname"], spec["domainname"]
            if options.cpus is not None:
                spec["nano_cpus"] = int(options.cpus * 1e9)
            if options.memory is not None:
                spec["mem_limit"] = options.memory
                spec["memswap_limit"] = options.memory  # no swap: an overrun is an OOM kill, as on ModelArts
            if options.gpus:
                spec["device_requests"] = [docker.types.DeviceRequest(count=options.gpus, capabilities=[["gpu"]])]
            specs.append(spec)

        header = f"[pytest-modelarts] job {config.job_name} ({job_id}) in image {image}\n"
        for i in range(count):
            with open(box.log_file(i), "ab") as fh:
                fh.write(header.encode())
        execution = DockerExecution(config, self, box, image, client, commands)
        try:
            execution._launch(specs, network, holder)
        except Exception as exc:
            import docker.errors

            if isinstance(exc, docker.errors.APIError):
                raise BackendError(f"Docker refused to start job {config.job_name!r}: {exc}") from exc
            raise
        return execution


@hookimpl
def pytest_modelarts_register_backends(registry) -> None:  # type: ignore[no-untyped-def]
    registry.register(DockerBackend)
