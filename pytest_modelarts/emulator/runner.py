"""Emulated training jobs: each submitted job really runs, through the public SDK's local backend.

A job moves Creating -> Pending -> Running -> Completed / Failed (Terminating -> Terminated when stopped); the
secondary phases are Creating, Queuing (while Pending), Running, Completed, Failed, Terminating, Terminated,
all of them documented values (:data:`~pytest_modelarts.core.phase.SECONDARY_PHASES`). ``status.start_time``
is 0 until the job runs, then epoch milliseconds; ``status.duration`` is milliseconds of running.

While Pending it "downloads" its code and inputs from the emulated OBS into a work directory; Running is an
``Estimator(train_instance_type="local", ...).fit(...)`` of that code with the job's parameters and node
count, limited to its flavor's cores and memory (:mod:`~pytest_modelarts.core.flavors`); afterwards its outputs
(and logs, when ``log_export_path`` is set) are "uploaded" to the emulated OBS.
The environment is the job's engine (``algorithm.engine``, through the project's catalog: its Python and framework,
as a local run of it has them), else the emulator's own interpreter: online jobs carry an engine, not an Environment.
``algorithm.environments`` become environment variables of the local run (through a
``pytest_modelarts_resolve_environment`` wrapper of the job's own plugin manager; they never override the
variables of the runtime contract). ``algorithm.working_dir`` is kept and shown: it is the contract's (a create
request that says otherwise is refused), where the local run works too.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.engines import Engine, by_api_fields
from ..core.hooks import hookimpl
from ..core.location import Location
from ..core.phase import JobPhase
from .obs import ObsStore

if TYPE_CHECKING:
    from collections.abc import Generator

    from ..core.runtime import PythonRuntime
    from ..core.training_job import TrainingJob

FINAL = {"Completed", "Failed", "Terminated", "Abnormal"}


class EmulatedJob:
    """One training job of the emulator: its v2 document and the thread that runs it."""

    def __init__(self, body: dict[str, Any], *, store: ObsStore, work_root: Path, phase_delay: float, python: str | None) -> None:
        self.id = str(uuid.uuid4())
        self.body = body
        self.name: str = body["metadata"]["name"]
        self.create_time = int(time.time() * 1000)
        self.phases: list[tuple[str, str]] = []  # every (phase, secondary), in order
        self._enter(JobPhase.CREATING)
        self.task_statuses: list[dict[str, Any]] = []
        self.start_time = 0  # as the API shows it: 0 until the job runs, then epoch ms
        self.end_time: int | None = None
        self.error: str | None = None
        self._store = store
        self._work = work_root / self.id
        self._delay = phase_delay
        self._python = python
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._local_job: TrainingJob | None = None
        self._thread = threading.Thread(target=self._run, name=f"emulated-job-{self.id[:8]}", daemon=True)

    # -- views ----------------------------------------------------------------------------------------
    @property
    def flavor_id(self) -> str:
        return str(((self.body.get("spec") or {}).get("resource") or {}).get("flavor_id") or "")

    @property
    def node_count(self) -> int:
        return int(((self.body.get("spec") or {}).get("resource") or {}).get("node_count") or 1)

    @property
    def tasks(self) -> list[str]:
        return [f"worker-{i}" for i in range(self.node_count)]

    @property
    def history(self) -> list[str]:
        """Every phase the job went through, in order."""
        with self._lock:
            return [phase for phase, _ in self.phases]

    @property
    def environments(self) -> dict[str, str]:
        """``algorithm.environments`` of the request (a map; checked at create)."""
        return dict((self.body.get("algorithm") or {}).get("environments") or {})

    def document(self) -> dict[str, Any]:
        """The job as the v2 API shows it (``JobResponse``)."""
        with self._lock:
            now = int(time.time() * 1000)
            duration = (self.end_time or now) - self.start_time if self.start_time else 0
            meta = {**(self.body.get("metadata") or {}), "id": self.id, "create_time": self.create_time, "user_name": "emulator"}
            algorithm = dict(self.body.get("algorithm") or {})
            if "environments" in algorithm:  # a map in the request, "Array of Map<String,String>" in the response
                algorithm["environments"] = [self.environments]
            return {
                "kind": self.body.get("kind", "job"),
                "metadata": meta,
                "status": {
                    "phase": self.phase, "secondary_phase": self.secondary_phase, "duration": duration,
                    "start_time": self.start_time, "tasks": self.tasks, "task_statuses": list(self.task_statuses),
                },
                "algorithm": algorithm,
                "spec": self.body.get("spec") or {},
            }

    def log(self, task: str) -> str:
        with self._lock:
            job = self._local_job
        index = self.tasks.index(task)
        if job is None:
            return self.error + "\n" if self.error else ""
        names = job.get_job_log_file_list()
        if index >= len(names):
            return ""
        text = job.get_job_log(names[index])
        if self.error and index == 0:
            text += self.error + "\n"
        return text

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self.phase in FINAL:
                return
            self._enter(JobPhase.TERMINATING)
            self._stop.set()
            job = self._local_job
        if job is not None:
            job.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _enter(self, phase: JobPhase, secondary: str | None = None) -> None:
        """Show ``phase`` (the secondary phase is the same name unless given) and record it (with the lock held)."""
        self.phase = phase.value
        self.secondary_phase = secondary or phase.value
        self.phases.append((self.phase, self.secondary_phase))

    def _advance(self, phase: JobPhase, secondary: str | None = None) -> bool:
        """After the phase delay, move to ``phase`` unless a stop came first; when one did, the job ends Terminated
        and this is False. Running sets ``start_time`` with it."""
        self._stop.wait(self._delay)
        with self._lock:
            if self._stop.is_set():
                self._finish(JobPhase.TERMINATED)
                return False
            if phase is JobPhase.RUNNING:
                self.start_time = int(time.time() * 1000)
            self._enter(phase, secondary)
            return True

    def _finish(self, phase: JobPhase) -> None:
        with self._lock:
            self._enter(JobPhase.TERMINATED if self._stop.is_set() else phase)
            self.end_time = int(time.time() * 1000)

    def _run(self) -> None:
        try:
            self._run_inner()
        except Exception as exc:  # the emulator must report, never die
            self.error = f"emulator: {type(exc).__name__}: {exc}"
            self._finish(JobPhase.FAILED)
            traceback.print_exc()

    def _run_inner(self) -> None:
        from ..core.container import ContainerOptions
        from ..core.flavors import find as find_flavor
        from ..core.runner import new_plugin_manager
        from ..sdk import Environment, Estimator, Session  # the public SDK, as a user would run the job locally

        if not self._advance(JobPhase.PENDING, "Queuing"):
            return
        algorithm = self.body.get("algorithm") or {}
        self._work.mkdir(parents=True, exist_ok=True)
        try:
            code_url = algorithm.get("code_dir")
            boot_url = algorithm.get("boot_file")
            if algorithm.get("id") or not code_url or not boot_url:
                raise _JobSetupError("the emulator runs code_dir + boot_file jobs only (no built-in algorithms or images)")
            code = self._download("code_dir", code_url.rstrip("/") + "/", self._work / "code" / Location(code_url).name)
            boot_rel = boot_url.removeprefix(code_url.rstrip("/") + "/")
            inputs = None
            for item in algorithm.get("inputs") or []:
                obs_url = (((item.get("remote") or {}).get("obs")) or {}).get("obs_url")
                if obs_url:
                    inputs = self._download("input", obs_url, self._work / "inputs" / item["name"])
                    break
                raise _JobSetupError("the emulator supports OBS inputs only (no datasets)")
            outputs = [((o.get("remote") or {}).get("obs") or {}).get("obs_url") for o in algorithm.get("outputs") or []]
            for url in outputs:
                if url and not self._store.has_bucket(Location(url).bucket):
                    raise _JobSetupError(f"output bucket of {url} does not exist")
        except _JobSetupError as exc:
            self.error = f"emulator: {exc}"
            return self._finish(JobPhase.FAILED)
        if not self._advance(JobPhase.RUNNING):
            return
        engine = self._engine(algorithm)
        # the SDK's plugin manager (hooks, built-in plugins, entry points) plus the job's environment variables
        plugins = new_plugin_manager({"pytest_modelarts.emulator.environments": _Environments(self.environments)})
        # an engine's Python comes from a local interpreter: conda channels may be unreachable where the emulator runs
        session = Session(local_root=self._work / "runs", stream_logs=False, local_python=self._python or None, plugin_manager=plugins,
                          python_source="local" if engine is not None else None, progress=_StepsTo(self._work / "environment.log"))
        out_dir = self._work / "output"
        on_engine: dict[str, Any] = {}
        if engine is not None:  # its lock goes to the job's work directory, never the emulator's working directory
            on_engine = dict(framework_type=engine.name, framework_version=engine.version,
                             environment=Environment(f"emulated-{self.id[:8]}", lock_file=self._work / "engine.conda-lock.yml"))
        estimator = Estimator(**on_engine,
            modelarts_session=session, train_instance_type="local", train_instance_count=self.node_count,
            code_dir=str(code), boot_file=boot_rel, output_path=str(out_dir),
            hyperparameters=[{"label": p["name"], "value": str(p.get("value", ""))} for p in algorithm.get("parameters") or []],
            # the flavor's cores and memory, as a node of it has them (a dedicated pool's flavor is not in the catalog)
            container_options=ContainerOptions(flavor=self.flavor_id if find_flavor(self.flavor_id) else None),
        )
        job = estimator.fit(inputs=str(inputs) if inputs else None, wait=False, job_name=self.name[:64])
        with self._lock:
            self._local_job = job
            stopped = self._stop.is_set()
        if stopped:
            job.stop()
        phase = job.wait()
        self.task_statuses = [{"task": t, "exit_code": job.exit_code if job.exit_code is not None else -1,
                               "message": job.failure_reason or ""} for t in self.tasks]
        for url in outputs:
            if url and out_dir.exists():
                self._store.upload(out_dir, url)
        log_url = (((self.body.get("spec") or {}).get("log_export_path")) or {}).get("obs_url")
        if log_url:
            exported = self._work / "exported-logs"
            exported.mkdir(exist_ok=True)
            for t in self.tasks:
                (exported / f"modelarts-job-{self.id}-{t}.log").write_text(self.log(t))
            self._store.upload(exported, log_url)
        self._finish(phase if phase in (JobPhase.COMPLETED, JobPhase.TERMINATED) else JobPhase.FAILED)

    def _engine(self, algorithm: dict[str, Any]) -> Engine | None:
        """The catalog's engine the request names (checked at create), where this machine can reproduce it: else
        the job runs on the emulator's interpreter, and its work directory's ``environment.log`` says why."""
        from ..envs.interpreters import select_interpreter
        from ..errors import EnvError

        engine = algorithm.get("engine") or {}
        found = by_api_fields(engine.get("engine_name"), engine.get("engine_version"), engine.get("engine_id"))
        if found is None:
            return None
        why = found.local_problem
        if why is None:
            try:
                select_interpreter(f"{found.python}.*")
            except EnvError:
                why = f"no local interpreter of Python {found.python}"
        if why is not None:
            _StepsTo(self._work / "environment.log").line(f"emulator: engine {found.engine_id} not reproduced ({why}): "
                                                          "the job runs on the emulator's interpreter")
            return None
        return found

    def _download(self, what: str, url: str, dest: Path) -> Path:
        try:
            return self._store.download(url, dest)
        except FileNotFoundError:
            raise _JobSetupError(f"{what} {url} does not exist in OBS") from None


class _JobSetupError(Exception):
    pass


class _StepsTo:
    """The steps of building an emulated job's environment, told to a file of the job's work directory (the
    emulator prints nothing of its jobs on its own output)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def _write(self, message: str) -> None:
        with self._lock, open(self._path, "a") as out:
            out.write(message + "\n")

    def begin(self, message: str) -> None:
        self._write(message)

    def end(self) -> None:
        pass

    def line(self, message: str) -> None:
        self._write(message)


class _Environments:
    """A plugin that adds a job's ``algorithm.environments`` to whatever runtime the resolvers chose."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables

    @hookimpl(wrapper=True)
    def pytest_modelarts_resolve_environment(self) -> Generator[None, PythonRuntime | None, PythonRuntime | None]:
        runtime = yield
        if runtime is None or not self.variables:
            return runtime
        return dataclasses.replace(runtime, env={**runtime.env, **self.variables})
