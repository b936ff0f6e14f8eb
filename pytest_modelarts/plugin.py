"""The pytest plugin: ``pytest --modelarts`` runs ModelArts smoke tests locally, as the cloud would.

Options (group ``modelarts``; each has an ini twin, the command line wins): see :func:`pytest_addoption`.
Marker: ``@pytest.mark.modelarts(...)`` (:mod:`pytest_modelarts.marker`). Fixtures: ``session``,
``estimator``, ``modelarts_job``. Job files: :mod:`pytest_modelarts.jobfile`. Reports:
:mod:`pytest_modelarts.reporting`. The project's hooks (:mod:`pytest_modelarts.hookspecs`) are added to
pytest's plugin manager, so a ``conftest.py`` implements them like any pytest hook.
"""

from __future__ import annotations

import contextlib
import enum
import shutil
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs
from .errors import ConfigurationError, JobError, ModelArtsError
from .estimator import Estimator
from .job import JobPhase, TrainingJob
from .marker import MARKER_HELP, SmokeSpec, SpecError, job_name_for, spec_from_marker
from .plugins import register_builtins
from .reporting import (
    PROMOTION_ATTR, REPORT_ATTR, attachments, format_job_error, job_record, junit_properties, promotion_record,
    write_summary,
)
from .session import LockMode, Session
from .testing import JobResult

ENABLE_HINT = "ModelArts smoke test: run pytest with --modelarts (or set modelarts = true in the ini file) to run it"
DEFAULT_TIMEOUT = 900.0
DEFAULT_LOG_LINES = 30


# -- options ----------------------------------------------------------------------------------------------

class _Bool(enum.Enum):
    TRUE = ("true", "1", "yes", "on")
    FALSE = ("false", "0", "no", "off")


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _Bool.TRUE.value:
        return True
    if value in _Bool.FALSE.value:
        return False
    raise ValueError(f"must be one of {', '.join(_Bool.TRUE.value + _Bool.FALSE.value)}")


def _parse_lock_mode(text: str) -> LockMode:
    try:
        return LockMode(text.strip().lower())
    except ValueError:
        raise ValueError(f"must be one of {', '.join(m.value for m in LockMode)}") from None


PYTHON_SOURCES = ("conda", "local")


def _parse_python_source(text: str) -> str | None:
    value = text.strip().lower()
    if not value:
        return None
    if value not in PYTHON_SOURCES:
        raise ValueError(f"must be one of {', '.join(PYTHON_SOURCES)}")
    return value


def _parse_timeout(text: str) -> float | None:
    if text.strip().lower() in ("none", "0"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number of seconds > 0, or 'none' for no timeout") from None
    if value <= 0:
        raise ValueError("must be a number of seconds > 0, or 'none' for no timeout")
    return value


def _parse_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("must be an int >= 0") from None
    if value < 0:
        raise ValueError("must be an int >= 0")
    return value


def _parse_str(text: str) -> str | None:
    return text.strip() or None


@dataclass(frozen=True)
class Option:
    """One setting: a command-line flag and its ini twin."""

    flag: str
    ini: str
    help: str
    parse: Callable[[str], Any]
    default: str = ""
    is_flag: bool = False
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS = (
    Option("--modelarts", "modelarts", "run ModelArts smoke tests (marked tests and job files); without it they are skipped",
           _parse_bool, "false", is_flag=True),
    Option("--modelarts-root", "modelarts_root", "directory for run sandboxes (default: <rootdir>/.modelarts)",
           _parse_str, metavar="DIR"),
    Option("--modelarts-cache-dir", "modelarts_cache_dir", "where locked environments are built and shared (default: the user cache dir)",
           _parse_str, metavar="DIR"),
    Option("--modelarts-lock-mode", "modelarts_lock_mode", "environment locks: create (default), check (CI: stale locks fail) or update",
           _parse_lock_mode, "create", metavar="MODE"),
    Option("--modelarts-python-source", "modelarts_python_source",
           "where a locked environment's python comes from: conda (default) or local (a local interpreter that "
           "satisfies the spec, through a uv venv; only when conda_packages pin just python)",
           _parse_python_source, metavar="SOURCE"),
    Option("--modelarts-timeout", "modelarts_timeout", f"default seconds a smoke job may run ('none': no limit; default {DEFAULT_TIMEOUT:g})",
           _parse_timeout, str(DEFAULT_TIMEOUT), metavar="SECONDS"),
    Option("--modelarts-keep-sandboxes", "modelarts_keep_sandboxes", "keep the sandboxes of passing tests too (failed runs always keep theirs)",
           _parse_bool, "false", is_flag=True),
    Option("--modelarts-log-lines", "modelarts_log_lines", f"log lines shown for a failed job (default {DEFAULT_LOG_LINES})",
           _parse_count, str(DEFAULT_LOG_LINES), metavar="N"),
    Option("--modelarts-promote", "modelarts_promote", "after a smoke test passes, submit its online configuration as a ModelArts training job (once, see the ledger)",
           _parse_bool, "false", is_flag=True),
    Option("--modelarts-promote-wait", "modelarts_promote_wait", "wait for promoted jobs to finish (at most --modelarts-timeout)",
           _parse_bool, "false", is_flag=True),
    Option("--modelarts-promote-force", "modelarts_promote_force", "promote even when the ledger says the configuration was promoted already",
           _parse_bool, "false", is_flag=True),
    Option("--modelarts-instance-type", "modelarts_instance_type", "default online flavor for promotion, e.g. modelarts.vm.cpu.2u",
           _parse_str, metavar="FLAVOR"),
    Option("--modelarts-promote-ledger", "modelarts_promote_ledger", "the promotion ledger (default: <rootdir>/.modelarts/promotions.json)",
           _parse_str, metavar="FILE"),
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)
    register_builtins(pluginmanager)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelarts", "ModelArts smoke tests")
    for opt in OPTIONS:
        if opt.is_flag:
            group.addoption(opt.flag, action="store_true", default=None, dest=opt.dest, help=f"{opt.help} (ini: {opt.ini})")
        else:
            group.addoption(opt.flag, action="store", default=None, dest=opt.dest, metavar=opt.metavar,
                            help=f"{opt.help} (ini: {opt.ini})")
        parser.addini(opt.ini, f"{opt.help} (command line: {opt.flag})", type="string", default=opt.default)


@dataclass(frozen=True)
class Settings:
    enabled: bool
    root: Path
    cache_dir: Path | None
    lock_mode: LockMode
    python_source: str | None
    timeout: float | None
    keep_sandboxes: bool
    log_lines: int
    promote: bool
    promote_wait: bool
    promote_force: bool
    instance_type: str | None
    ledger: Path

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        values: dict[str, Any] = {}
        for opt in OPTIONS:
            cli = config.getoption(opt.dest)
            if opt.is_flag and cli:
                values[opt.dest] = True
                continue
            text, source = (str(cli), f"{opt.flag}={cli}") if cli is not None else (config.getini(opt.ini), f"ini {opt.ini} = {config.getini(opt.ini)}")
            try:
                values[opt.dest] = opt.parse(text)
            except ValueError as exc:
                raise pytest.UsageError(f"{source}: {exc}") from None
        base = config.rootpath
        root = _absolute(base, values["modelarts_root"]) or base / ".modelarts"
        return cls(
            enabled=values["modelarts"], root=root,
            cache_dir=_absolute(base, values["modelarts_cache_dir"]),
            lock_mode=values["modelarts_lock_mode"], python_source=values["modelarts_python_source"], timeout=values["modelarts_timeout"],
            keep_sandboxes=values["modelarts_keep_sandboxes"], log_lines=values["modelarts_log_lines"],
            promote=values["modelarts_promote"], promote_wait=values["modelarts_promote_wait"],
            promote_force=values["modelarts_promote_force"], instance_type=values["modelarts_instance_type"],
            ledger=_absolute(base, values["modelarts_promote_ledger"]) or root / "promotions.json",
        )


def _absolute(base: Path, text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


# -- configuration ----------------------------------------------------------------------------------------

_PLUGIN_KEY = pytest.StashKey["ModelArtsPlugin"]()
_SPEC_KEY = pytest.StashKey["SmokeSpec | None"]()
_FAILURE_KEY = pytest.StashKey[JobError]()
_PASSED_KEY = pytest.StashKey[bool]()
_PROMOTIONS_KEY = pytest.StashKey[list]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    settings = Settings.from_config(config)
    if settings.promote and not settings.enabled:
        raise pytest.UsageError("--modelarts-promote promotes passing smoke tests: add --modelarts to run them")
    if settings.promote_wait and not settings.promote or settings.promote_force and not settings.promote:
        raise pytest.UsageError("--modelarts-promote-wait and --modelarts-promote-force modify promotion: add --modelarts-promote")
    plugin = ModelArtsPlugin(config, settings)
    config.stash[_PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "modelarts-runner")


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.stash.get(_PLUGIN_KEY, None)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)
        del config.stash[_PLUGIN_KEY]


def get_plugin(config: pytest.Config) -> ModelArtsPlugin:
    return config.stash[_PLUGIN_KEY]


def _worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


class SmokeEstimator(Estimator):
    """The ``estimator`` fixture: an :class:`Estimator` of the local smoke configuration.

    ``fit()`` defaults ``inputs`` to the smoke inputs and ``job_name`` to the test's name, and ``wait=True``
    waits at most the marker's ``timeout`` (else ``--modelarts-timeout``).
    """

    _UNSET: Any = object()

    def __init__(self, *, smoke_inputs: str | None, timeout: float | None, default_job_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.smoke_inputs = smoke_inputs
        self.timeout = timeout
        self.default_job_name = default_job_name

    def with_overrides(self, **changes: Any) -> SmokeEstimator:
        """A copy with some Estimator parameters changed; it keeps the smoke inputs, timeout and job name."""
        base = super().with_overrides(**changes)
        return SmokeEstimator(smoke_inputs=self.smoke_inputs, timeout=self.timeout, default_job_name=self.default_job_name,
                              modelarts_session=base.session, **base._params)

    def fit(self, inputs: Any = _UNSET, dataset_id: str | None = None, dataset_version_id: str | None = None,
            data_source: Any = None, wait: bool = False, job_name: str | None = None, **unknown: Any) -> TrainingJob:
        if inputs is self._UNSET:
            inputs = self.smoke_inputs
        job = super().fit(inputs=inputs, dataset_id=dataset_id, dataset_version_id=dataset_version_id,
                          data_source=data_source, wait=False, job_name=job_name or self.default_job_name, **unknown)
        if wait:
            job.wait(self.timeout)
            job.raise_for_status()
        return job


class ModelArtsPlugin:
    """Per-run state: the local Session of this process, the jobs of each test, the records for the summary."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._session: Session | None = None
        self._current: pytest.Item | None = None
        self._jobs: dict[str, list[TrainingJob]] = {}
        self.records: list[dict[str, Any]] = []
        self.promotions: list[dict[str, Any]] = []

    # -- the session and runs -----------------------------------------------------------------------
    def session(self) -> Session:
        if self._session is None:
            s = self.settings
            self._session = Session(
                plugin_manager=self.config.pluginmanager,
                local_root=s.root / "pytest" / _worker_id(self.config),
                cache_dir=s.cache_dir, lock_mode=s.lock_mode, python_source=s.python_source,
                stream_logs=self.config.getoption("capture") == "no",
            )
        return self._session

    def spec_for(self, item: pytest.Item) -> SmokeSpec | None:
        """The item's smoke configuration (None without the marker); :class:`SpecError` for misuse."""
        if _SPEC_KEY in item.stash:
            return item.stash[_SPEC_KEY]
        from .jobfile import ModelArtsJobItem

        spec: SmokeSpec | None
        if isinstance(item, ModelArtsJobItem):
            spec = item.spec
        else:
            marker = item.get_closest_marker("modelarts")
            spec = None if marker is None else spec_from_marker(marker.args, marker.kwargs, item.path.parent)
        item.stash[_SPEC_KEY] = spec
        return spec

    def make_estimator(self, item: pytest.Item, spec: SmokeSpec | None) -> SmokeEstimator:
        if spec is None or not spec.runs_a_job:
            pytest.fail(f"{item.nodeid}: the estimator and modelarts_job fixtures need "
                        "@pytest.mark.modelarts(code_dir=..., boot_file=...) on the test", pytrace=False)
        try:
            return SmokeEstimator(
                smoke_inputs=spec.local_inputs,
                timeout=spec.timeout if spec.timeout is not None else self.settings.timeout,
                default_job_name=spec.job_name or job_name_for(item.name),
                **spec.local_estimator_kwargs(self.session()),
            )
        except ConfigurationError as exc:
            problem = str(exc)
        pytest.fail(f"{item.nodeid}: @pytest.mark.modelarts: {problem}", pytrace=False)

    def run_smoke(self, item: pytest.Item, spec: SmokeSpec, estimator: SmokeEstimator | None = None) -> JobResult:
        """Run the local smoke job of ``spec`` to its end; a failure is remembered for the call phase."""
        estimator = estimator or self.make_estimator(item, spec)
        job = estimator.fit(wait=False)
        try:
            job.wait(estimator.timeout)
            job.raise_for_status()
        except JobError as exc:
            item.stash[_FAILURE_KEY] = exc
        return JobResult(job)

    def failure_of(self, item: pytest.Item) -> JobError | None:
        return item.stash.get(_FAILURE_KEY, None)

    def format_failure(self, exc: JobError) -> str:
        return format_job_error(exc, self.settings.log_lines)

    # -- the project's hooks ----------------------------------------------------------------------------
    @pytest.hookimpl
    def pytest_modelarts_job_started(self, job: TrainingJob) -> None:
        if self._current is not None:
            self._jobs.setdefault(self._current.nodeid, []).append(job)

    # -- pytest hooks -----------------------------------------------------------------------------------
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        s = self.settings
        if not s.enabled:
            return []
        timeout = f"{s.timeout:g} s" if s.timeout else "none"
        lines = [f"modelarts: sandboxes under {s.root}, lock mode {s.lock_mode.value}, timeout {timeout}"]
        if s.promote:
            lines.append(f"modelarts: promoting passing smoke tests (default flavor {s.instance_type or 'from the marker'}, ledger {s.ledger})")
        return lines

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.settings.enabled and _is_controller(self.config):
            # in the background: it only touches containers of dead runs, so it need not delay the first test
            self._cleanup = threading.Thread(target=_cleanup_docker_leftovers, name="modelarts-docker-cleanup", daemon=True)
            self._cleanup.start()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup.join(timeout=60)  # never leave it half done

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        from .jobfile import ModelArtsFile, is_job_file

        if self.settings.enabled and is_job_file(file_path):
            return ModelArtsFile.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        self._current = item
        try:
            return (yield)
        finally:
            self._current = None
            self._jobs.pop(item.nodeid, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        try:
            spec = self.spec_for(item)
        except SpecError as exc:
            problem = str(exc)
        else:
            problem = None
        if problem is not None:  # outside the except block: no exception chain in the report
            pytest.fail(f"{item.nodeid}: @pytest.mark.modelarts: {problem}", pytrace=False)
        if spec is not None and not self.settings.enabled:
            pytest.skip(ENABLE_HINT)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        # the modelarts_job fixture ran a job that failed: the test fails with the job's report, before its body
        failure = self.failure_of(item)
        if failure is not None and isinstance(item, pytest.Function):
            raise failure

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        try:
            return (yield)
        finally:
            for job in self._jobs.get(item.nodeid, []):
                with contextlib.suppress(Exception):
                    job.stop()  # a job a test left running must not outlive it
            if self.settings.promote and item.stash.get(_PASSED_KEY, False):
                try:
                    self._promote(item)
                except ModelArtsError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                else:
                    problem = None
                if problem is not None:  # the smoke test passed; its promotion is reported as a teardown error
                    pytest.fail(f"{item.nodeid}: promotion failed: {problem}", pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, JobError) and error.job is not None:
            report.longrepr = self.format_failure(error)
        elif isinstance(error, ModelArtsError) and not isinstance(error, JobError):
            # a bad configuration, an environment that cannot be locked or built, a backend that cannot start:
            # the message says what and how to fix it; our stack is noise
            report.longrepr = f"{type(error).__name__}: {error}"
        if call.when == "call":
            item.stash[_PASSED_KEY] = report.passed
        elif call.when == "teardown":
            self._finish_item(item, report)
        return report

    def _finish_item(self, item: pytest.Item, report: pytest.TestReport) -> None:
        jobs = self._jobs.get(item.nodeid, [])
        passed = item.stash.get(_PASSED_KEY, False) and report.passed
        records = []
        for job in jobs:
            record = job_record(job, item.nodeid)
            if passed and job.phase is JobPhase.COMPLETED and not self.settings.keep_sandboxes and job.sandbox:
                shutil.rmtree(job.sandbox, ignore_errors=True)
                record["kept"] = False
            records.append(record)
        promotions = item.stash.get(_PROMOTIONS_KEY, [])
        setattr(report, REPORT_ATTR, records)
        setattr(report, PROMOTION_ATTR, promotions)
        report.user_properties.extend(junit_properties(records, promotions))
        text = attachments(records)
        if text:
            report.sections.append(("Captured stdout modelarts", text))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        records = getattr(report, REPORT_ATTR, None) or []
        self.records.extend(records)
        self.promotions.extend(getattr(report, PROMOTION_ATTR, None) or [])
        text = attachments(records)
        if text:
            _junit_attach(self.config, report, text)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_controller(self.config):
            write_summary(terminalreporter, self.records, self.promotions)

    # -- promotion --------------------------------------------------------------------------------------
    def _promote(self, item: pytest.Item) -> None:
        spec = item.stash.get(_SPEC_KEY, None)
        jobs = [j for j in self._jobs.get(item.nodeid, []) if j.phase is JobPhase.COMPLETED and j.config.is_local]
        if spec is None or not spec.runs_a_job or not jobs:
            return
        from .promotion import Ledger, promote

        session = self.session()
        online = spec.online_config(session, flavor=self.settings.instance_type,
                                    job_name=spec.job_name or job_name_for(item.name))
        runtime = jobs[-1].runtime
        record = promote(
            online, session, ledger=Ledger(self.settings.ledger), lock_hash=runtime.env_hash if runtime else None,
            force=self.settings.promote_force, wait=self.settings.promote_wait, timeout=self.settings.timeout,
        )
        self.config.pluginmanager.hook.pytest_modelarts_job_promoted(record=record, config=online)
        item.stash.setdefault(_PROMOTIONS_KEY, []).append(promotion_record(record, item.nodeid))


def _cleanup_docker_leftovers() -> None:
    """Remove containers and networks of dead earlier runs, when the Docker backend exists and Docker answers."""
    try:
        from .backends import docker as docker_backend
    except ImportError:
        return
    with contextlib.suppress(Exception):  # Docker absent or not answering: never fail the session for it
        if docker_backend.leftovers_possible():  # else no earlier run died owning containers: don't ask Docker
            docker_backend.cleanup_leftovers()


def _junit_attach(config: pytest.Config, report: pytest.TestReport, text: str) -> None:
    """Attach the logs to the junitxml test case as Jenkins attachments, also when junit_logging is 'no'.

    With junit_logging including system-out, pytest writes the ``Captured stdout modelarts`` section itself.
    """
    from _pytest.junitxml import xml_key  # pytest's own junitxml plugin; absent without --junitxml

    xml = config.stash.get(xml_key, None)
    if xml is None or getattr(xml, "logging", None) not in ("no", "log", "system-err"):
        return
    with contextlib.suppress(Exception):
        import xml.etree.ElementTree as ET

        node = ET.Element("system-out")
        node.text = text
        xml.node_reporter(report).append(node)


# -- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Session:
    """The local ModelArts :class:`~pytest_modelarts.Session` of this pytest process (one per xdist worker)."""
    return get_plugin(request.config).session()


@pytest.fixture
def estimator(request: pytest.FixtureRequest, session: Session) -> SmokeEstimator:
    """An Estimator of the test's ``@pytest.mark.modelarts`` smoke configuration, ``train_instance_type='local'``."""
    plugin = get_plugin(request.config)
    return plugin.make_estimator(request.node, plugin.spec_for(request.node))


@pytest.fixture
def modelarts_job(request: pytest.FixtureRequest, estimator: SmokeEstimator) -> JobResult:
    """Runs the test's smoke job to its end and gives a :class:`~pytest_modelarts.testing.JobResult`.

    A job that did not complete fails the test with the job's report before the test body runs.
    """
    plugin = get_plugin(request.config)
    spec = plugin.spec_for(request.node)
    assert spec is not None
    return plugin.run_smoke(request.node, spec, estimator)


__all__ = ["JobResult", "ModelArtsPlugin", "Settings", "SmokeEstimator", "get_plugin"]


@pytest.fixture
def modelarts_emulator(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A ModelArts v2 + OBS emulator on 127.0.0.1 for users' tests of the online path (docs/online.md).

    Defined here so that the emulator (an HTTP server and the SDK's models) is imported only by tests that use it.
    """
    from .emulator.fixtures import running_emulator

    yield from running_emulator(tmp_path_factory)
