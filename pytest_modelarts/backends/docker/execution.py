"""A Docker job's execution: a container per worker, a thread per container that copies its output to the log,
and the removal of every container and network of the job whatever its end (including interpreter exit and
SIGTERM; after SIGKILL, the next run's clean-up, see :mod:`.owners`)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core import contract, oskit
from ...core.flavors import Usage
from ...core.job import JobConfig
from ...core.phase import JobPhase
from .. import sandbox as sb
from ..local.limits import JobGroups
from ..workers import WorkerJob
from . import owners
from .files import chown_tree, output_owner
from .owners import LABEL_WORKER, labels, remove_network

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network

    from ...core.session import Session


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
                cap = oskit.LogCap(contract.log_limit(), log.write)  # ModelArts caps a log at 1 GiB
                for chunk in self.container.logs(stream=True, follow=True, stdout=True, stderr=True):
                    cap(chunk)
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
#: the note a worker leaves in its /cache when installing the requirements file failed (it holds pip's exit code)
INSTALL_FAILED = ".pytest-modelarts-requirements-failed"


@atexit.register
def _remove_live() -> None:
    """At interpreter exit (an uncaught exception, a Ctrl-C outside wait()), no container of ours survives."""
    for execution in list(_LIVE):
        with contextlib.suppress(Exception):
            execution._remove_resources(force=True)
    owners.forget_owner()


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

    def __init__(self, config: JobConfig, session: Session, box: sb.Sandbox, image: str,
                 client: docker.DockerClient, commands: list[list[str]], *, requirements: str | None = None,
                 groups: JobGroups | None = None) -> None:
        super().__init__(config, session, box, commands)
        self._groups = groups  # the workers' parent control groups: their peak memory outlives the containers
        self.image = image
        self.requirements = requirements  # the requirements file each worker installs first, if any
        self._client = client
        self._ended = threading.Condition()
        self._workers: list[_Worker] = []
        self._network: Network | None = None
        self._holder: Container | None = None  # holds the loopback-only namespace of an offline job
        self._notes: list[str] = []
        self.timings: dict[str, float] = {}  # seconds of each step of the start (info()["timings"])
        owners.note_owner()
        _LIVE.add(self)
        _install_sigterm_cleanup()

    # -- start ----------------------------------------------------------------------------------------
    def _launch(self, specs: list[dict[str, Any]], network: Network | None, holder: dict[str, Any] | None) -> None:
        """Create and start the workers, concurrently (one after the other only where a worker joins worker 0's
        network namespace, which must be running first); a thread per worker follows its output."""
        self._network = network
        start = time.perf_counter()
        try:
            if holder is not None:
                self._holder = self._client.containers.create(**holder)
                self._holder.start()
            self._follow_logs()
            self._workers = [None] * len(specs)  # type: ignore[list-item]  # filled in below, each by its index
            joins_worker0 = any(str(s.get("network_mode", "")).startswith("container:") and holder is None for s in specs)
            if len(specs) == 1 or joins_worker0:
                for i, spec in enumerate(specs):
                    self._start_worker(i, spec)
            else:
                _each_at_once(self._start_worker, range(len(specs)), specs)
        except BaseException:
            self._workers = [w for w in self._workers if w is not None]
            self._stop_requested = True
            self._remove_resources(force=True)
            raise
        finally:
            self.timings["containers"] = time.perf_counter() - start

    def _start_worker(self, index: int, spec: dict[str, Any]) -> None:
        container = self._client.containers.create(**spec)
        worker = _Worker(index, container, self._box.log_file(index), self._ended)
        self._workers[index] = worker  # known before its start: removed with the others whatever happens next
        container.start()
        worker.thread.start()

    # -- what the shared bookkeeping asks of us -----------------------------------------------------------
    def _codes(self) -> list[int | None]:
        return [self._worker_code(w) if w.done else None for w in self._workers]

    def _worker_code(self, worker: _Worker) -> int:
        if worker.oom_killed:
            return contract.OOM_EXIT_CODE
        return worker.exit_code if worker.exit_code is not None else -1

    def _wait_for_change(self, timeout: float | None) -> None:
        with self._ended:
            self._ended.wait(0.5 if timeout is None else min(0.5, timeout))

    def _stop_workers(self, workers: list[int]) -> None:
        """``docker stop`` (SIGTERM, the grace period, SIGKILL) every worker given, in parallel; wait for them."""
        import docker.errors

        grace = max(0, int(round(self.session.stop_grace_period)))
        chosen = [self._workers[i] for i in workers]

        def stop(worker: _Worker) -> None:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                worker.container.stop(timeout=grace)

        _each_at_once(stop, [w for w in chosen if not w.done])
        for worker in chosen:
            worker.thread.join(timeout=grace + 30)

    def _release(self) -> None:
        try:
            for worker in self._workers:
                worker.thread.join(timeout=10)
            if self._groups is not None:  # the containers ended: their peaks are final
                self._groups.read_usage()
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
            if worker is None:  # the start failed before this one was created
                continue
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                worker.container.remove(force=force)
        if self._holder is not None:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                self._holder.remove(force=True)
            self._holder = None
        if self._groups is not None:  # the workers' parent groups (their peaks were read, where the job ended)
            self._groups.remove()
        if self._network is not None:
            with contextlib.suppress(docker.errors.APIError):
                remove_network(self._network)
            self._network = None

    def _owner(self) -> tuple[int, int]:
        return output_owner()

    def _give_outputs_away(self) -> None:
        for worker in range(self._box.workers):
            self._give_away(self._box.mount(worker))

    def _give_away(self, mount: Path) -> None:
        uid, gid = self._owner()
        if os.geteuid() == 0:
            chown_tree(mount, uid, gid)
            return
        if all(p.lstat().st_uid == uid for p in sb.walk(mount)):
            return
        import docker.errors

        try:
            self._client.containers.run(
                self.image, entrypoint=["chown", "-R", f"{uid}:{gid}", "/target"], user="0:0",
                network_mode="none", remove=True, labels=labels(self.config, self._box.job_id, **{LABEL_WORKER: "chown"}),
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
            for path in sb.walk(train_url):
                with contextlib.suppress(FileNotFoundError):
                    os.lchown(target / path.relative_to(train_url), uid, gid)

    def _note(self, text: str) -> None:
        self._notes.append(text)
        self._log_note(text)

    # -- results ---------------------------------------------------------------------------------------
    def _worker_failure(self) -> str | None:
        if self._final is not JobPhase.FAILED or self._failed_worker is None:
            return None
        worker = self._workers[self._failed_worker]
        detail = f"worker {worker.index} exited with {self._exit_code}" if len(self._workers) > 1 else ""
        if worker.oom_killed:  # Docker's word, not the exit code: a SIGKILL from anyone also ends with 137
            groups = self._groups
            oom = groups.limits.oom_text(groups.peaks()[worker.index] if groups.groups else None) if groups else "out of memory"
            return oom + (f" ({detail})" if detail else "")
        if self.requirements is not None and (self._box.cache(worker.index) / INSTALL_FAILED).exists():
            return (f"installing {self.requirements} from the code directory failed (exit {worker.exit_code}), before the "
                    "boot file ran; pip's output is in the job's log" + (f" of worker {worker.index}" if detail else ""))
        if worker.error:
            return f"lost track of worker {worker.index}: {worker.error}"
        killed = _signal_name(worker.exit_code)
        if killed is not None:  # the command died of a signal (init reports 128 + its number)
            text = f"killed by {killed}" + (" (not out of memory: Docker reports no OOM kill)" if killed == "SIGKILL" else "")
            return f"{detail}, {text}" if detail else text
        return detail or None

    def usage(self) -> Usage | None:
        groups = self._groups
        return Usage(tuple(groups.peaks()), groups.limits) if groups is not None and groups.groups and self._final else None

    def info(self) -> dict[str, Any]:
        return {**super().info(), "image": self.image, "containers": [w.container.name for w in self._workers],
                "network": self._network.name if self._network is not None else None, "notes": list(self._notes),
                "peak_memory": list(usage.peaks) if (usage := self.usage()) is not None else None,
                "timings": dict(self.timings)}


def _each_at_once(call: Callable[..., object], *arguments: Iterable[Any]) -> None:
    """``call`` on each set of ``arguments``, each in a thread of its own; returns once every call ended, raising the
    first error (so that what the others made is known before it is cleaned up)."""
    from concurrent.futures import ThreadPoolExecutor

    calls = list(zip(*arguments, strict=True))
    if calls:
        with ThreadPoolExecutor(len(calls)) as pool:
            for future in [pool.submit(call, *args) for args in calls]:
                future.result()


def _signal_name(exit_code: int | None) -> str | None:
    """``SIGKILL`` for 137 and so on: the signal an exit code above 128 stands for, if it names one."""
    if exit_code is None or not 128 < exit_code < 128 + 65:
        return None
    try:
        return signal.Signals(exit_code - 128).name
    except ValueError:
        return None
