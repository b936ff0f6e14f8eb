"""The smoke runner: the per-run state of ``pytest --modelarts`` and the pytest hooks that run, report and clean up.

One :class:`SmokeRunner` per pytest process (per xdist worker): the local Session of this process, each test's
smoke configuration and jobs, the records for the summary. It runs a test's job through the SDK's Estimator
(:class:`SmokeEstimator`), stops what a test left running, and hands passing tests to promotion.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..backends.docker import owners
from ..backends.local.limits import session_line as limits_line
from ..backends.sandbox import remove as remove_sandbox
from ..core.phase import JobPhase
from ..core.runner import prepare_backend, start_job
from ..core.session import Session
from ..core.training_job import TrainingJob
from ..errors import ConfigurationError, JobError, ModelArtsError, ParameterError
from ..sdk import Estimator
from .jobfile import SUFFIXES, ModelArtsFile
from .marker import SmokeSpec, configure, job_name_for, spec_from_marker
from .options import Settings
from .progress import ProgressReporter
from .promoting import promote_item
from .reporting import (
    PROMOTION_ATTR,
    REPORT_ATTR,
    JobRecord,
    attachments,
    format_job_error,
    junit_attach,
    junit_properties,
    write_summary,
)
from .result import JobResult
from .sandboxes import keep_failed
from .stash import FAILURE_KEY, PASSED_KEY, PROBLEM_KEY, PROMOTIONS_KEY, SPEC_KEY

#: the fixtures through which a marked test runs its job (their aliases depend on them)
JOB_FIXTURES = frozenset({"modelarts_job", "modelarts_estimator"})

ENABLE_HINT = "ModelArts smoke test: run pytest with --modelarts (or set modelarts = true in the ini file) to run it"


def ignore_run_root(root: Path) -> None:
    """The run root holds sandboxes and logs, never anything to commit, and the promotion ledger, to commit: it says so
    to git itself."""
    with contextlib.suppress(OSError):
        root.mkdir(parents=True, exist_ok=True)
        ignore = root / ".gitignore"
        # (an older plugin's file, which ignored the ledger too, is replaced)
        if not ignore.exists() or ignore.read_text() == "# written by pytest-modelarts: run sandboxes, logs and the promotion ledger\n*\n":
            # the ledger is kept: committed, it tells a fresh CI checkout what was promoted already (docs/online.md)
            ignore.write_text("# written by pytest-modelarts: run sandboxes and logs; the promotion ledger is kept\n*\n"
                              "!promotions.json\n")


def worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def runs_tests_here(config: pytest.Config) -> bool:
    """False in pytest-xdist's controller, which hands the tests to its workers."""
    return not is_controller(config) or not getattr(config.option, "numprocesses", None)


class SmokeEstimator(Estimator):
    """The ``estimator`` fixture: an :class:`Estimator` of the test's local smoke configuration, built at collection.

    ``fit()`` without arguments starts that configuration as it is (the smoke inputs, the test's job name); with
    arguments it is the SDK's ``fit``; ``wait=True`` waits at most the marker's ``timeout`` (else ``--modelarts-timeout``).
    """

    _UNSET: Any = object()
    timeout: float | None = None  # with_overrides() copies it along

    def fit(self, inputs: Any = _UNSET, dataset_id: str | None = None, dataset_version_id: str | None = None,
            data_source: Any = None, wait: bool = False, job_name: str | None = None, **unknown: Any) -> TrainingJob:
        if inputs is self._UNSET and not unknown and (dataset_id, dataset_version_id, data_source, job_name) == (None,) * 4:
            job = start_job(self.config, self.session)
        else:
            job = super().fit(inputs=self.config.inputs if inputs is self._UNSET else inputs, dataset_id=dataset_id,
                              dataset_version_id=dataset_version_id, data_source=data_source, wait=False,
                              job_name=job_name or self.config.job_name, **unknown)
        if wait:
            job.wait(self.timeout)
            job.raise_for_status()
        return job


class SmokeRunner:
    """Per-run state: the local Session of this process, the jobs of each test, the records for the summary."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.progress = ProgressReporter(config)  # registered by the entry point, as a plugin of its own
        self._session: Session | None = None
        self._jobs: dict[str, list[TrainingJob]] = {}
        self._code_at_start: dict[int, str | None] = {}  # id(job) -> its code tree's digest at its start
        self.records: list[JobRecord] = []
        self.promotions: list[dict[str, Any]] = []

    # -- the session and runs -----------------------------------------------------------------------
    def session(self) -> Session:
        if self._session is None:
            s = self.settings
            ignore_run_root(s.root)
            self._session = Session(
                plugin_manager=self.config.pluginmanager,
                local_root=s.root / "pytest" / worker_id(self.config),
                cache_dir=s.cache_dir, lock_mode=s.lock_mode, python_source=s.python_source,
                contract=s.contract, obs_root=s.obs_root, stream_logs=self.config.getoption("capture") == "no",
                progress=self.progress,
            )
        return self._session

    def configure(self, spec: SmokeSpec, name: str) -> SmokeSpec:
        """``spec`` with the job configurations its runs use, built once (see marker.configure)."""
        return configure(spec, self.session(), name=job_name_for(name), promote=self.settings.promote,
                         flavor=self.settings.instance_type)

    def configure_marked(self, item: pytest.Item) -> str | None:
        """Build the configurations of ``item``'s marker into its stash; the problem of a bad value, or None."""
        marker = item.get_closest_marker("modelarts")
        if marker is None:
            return None
        try:
            item.stash[SPEC_KEY] = self.configure(spec_from_marker(marker.args, marker.kwargs, item.path.parent), item.name)
        except ConfigurationError as exc:  # test_x.py::test_it: @pytest.mark.modelarts(timeout=-1): ...
            keyword = isinstance(exc, ParameterError) and exc.owner == "modelarts"
            return f"{item.nodeid}: @pytest.mark.{exc}" if keyword else f"{item.nodeid}: @pytest.mark.modelarts: {exc}"
        return None

    def make_estimator(self, item: pytest.Item) -> SmokeEstimator:
        spec = item.stash.get(SPEC_KEY, None)
        if spec is None or spec.local is None:
            pytest.fail(f"{item.nodeid}: the estimator and modelarts_job fixtures need "
                        "@pytest.mark.modelarts(code_dir=..., boot_file=...) on the test", pytrace=False)
        estimator = SmokeEstimator.from_config(spec.local, self.session())
        estimator.timeout = spec.timeout if spec.timeout is not None else self.settings.timeout
        return estimator

    def run_smoke(self, item: pytest.Item, estimator: SmokeEstimator | None = None) -> JobResult:
        """Run the item's local smoke job to its end; a failure is remembered for the call phase."""
        estimator = estimator or self.make_estimator(item)
        job = estimator.fit(wait=False)
        try:
            job.wait(estimator.timeout)
            job.raise_for_status()
        except JobError as exc:
            item.stash[FAILURE_KEY] = exc
        return JobResult(job)

    def format_failure(self, exc: JobError) -> str:
        return format_job_error(exc, self.settings.log_lines)

    # -- the project's hooks ----------------------------------------------------------------------------
    @pytest.hookimpl
    def pytest_modelarts_job_started(self, job: TrainingJob) -> None:
        # a test's local jobs; a promoted online job is reported in its own table, not again as a smoke job
        nodeid = self.progress.nodeid
        if nodeid is not None and job.config.is_local:
            self._jobs.setdefault(nodeid, []).append(job)
            if self.settings.promote:
                # what the job started from: promotion refuses code edited since (hashed at promotion, in teardown,
                # both sides would be the tree as it is then, and an edit made during the test would pass unseen)
                tree = job.config.code_tree
                self._code_at_start[id(job)] = tree.digest() if tree is not None else None

    # -- pytest hooks -----------------------------------------------------------------------------------
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        s = self.settings
        if not s.enabled:
            return []
        timeout = f"{s.timeout:g} s" if s.timeout else "none"
        lines = [f"modelarts: sandboxes under {s.root}, lock mode {s.lock_mode.value}, timeout {timeout}",
                 f"modelarts: {limits_line()}"]
        if s.promote:
            lines.append(f"modelarts: promoting passing smoke tests (default flavor {s.instance_type or 'from the marker'}, ledger {s.ledger})")
        return lines

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.settings.enabled and is_controller(self.config) and owners.leftovers_possible():
            # A noted owner died, so Docker has leftovers to remove. The Docker SDK is imported here, in this thread:
            # a job's backend importing it at the same time as the clean-up thread saw a half-initialised
            # docker.types (ImportError). The removal itself runs in the background: it only touches containers
            # of dead runs, so it need not delay the first test.
            import docker  # noqa: F401

            self._cleanup = threading.Thread(target=cleanup_docker_leftovers, name="modelarts-docker-cleanup", daemon=True)
            self._cleanup.start()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            cleanup.join(timeout=60)  # never leave it half done

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if self.settings.enabled and file_path.name.endswith(SUFFIXES):
            return ModelArtsFile.from_parent(parent, path=file_path)
        return None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Where this process runs smoke jobs, the local backend starts ahead what the first one would wait for.
        With --modelarts-promote, every selected job's online configuration is checked now, all problems at once:
        not one at a time, each after its smoke run."""
        if self.settings.enabled and runs_tests_here(self.config) and not self.config.option.collectonly and any(
                item.get_closest_marker("modelarts") for item in session.items):
            prepare_backend(self.session(), "local")
        if not self.settings.promote or not is_controller(self.config):
            return
        problems = []
        for item in session.items:
            spec = item.stash.get(SPEC_KEY, None)
            if spec is not None and spec.online_error is not None:
                problems.append(f"  {item.nodeid}: {spec.online_error}")
        if problems:
            raise pytest.UsageError("--modelarts-promote: these jobs cannot go online as configured; fix them (marker "
                                    "or job file: online_output_path, online_inputs, train_instance_type, framework_type) or deselect "
                                    "them:\n" + "\n".join(problems))

    @pytest.hookimpl(wrapper=True)
    def pytest_pycollect_makeitem(self, collector: pytest.Collector, name: str, obj: object) -> Generator[None, Any, Any]:
        """A marked test's configurations are built as it is collected: a bad value is a collection error."""
        result = yield
        if self.settings.enabled:
            for item in result if isinstance(result, list) else [result]:
                problem = self.configure_marked(item) if isinstance(item, pytest.Item) else None
                if problem is not None:
                    raise collector.CollectError(problem)
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        problem = item.stash.get(PROBLEM_KEY, None)
        if problem is not None:
            pytest.fail(problem, pytrace=False)

    @pytest.hookimpl(trylast=True)  # after other plugins added or removed markers
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Without --modelarts, smoke tests are skipped by a marker, so that the skip points at the test."""
        for item in items:
            if item.get_closest_marker("modelarts") is None:
                continue
            if not self.settings.enabled:
                item.add_marker(pytest.mark.skip(reason=ENABLE_HINT))
                continue
            if SPEC_KEY not in item.stash:  # a marker added after collection
                problem = self.configure_marked(item)
                if problem is not None:
                    item.stash[PROBLEM_KEY] = problem  # fails the test at its setup
            # a marker that describes a job on a test that never asks for it: the test would pass with no job run
            spec = item.stash.get(SPEC_KEY, None)
            if spec is not None and spec.runs_a_job and isinstance(item, pytest.Function) and not set(item.fixturenames) & JOB_FIXTURES:
                item.warn(pytest.PytestWarning(
                    f"{item.nodeid}: @pytest.mark.modelarts describes a job, but the test requests neither the "
                    "modelarts_job nor the modelarts_estimator fixture, so no job runs and the test passes on its own: "
                    "add the modelarts_job argument (or call modelarts_estimator.fit())"
                ))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        # the modelarts_job fixture ran a job that failed: the test fails with the job's report, before its body
        if FAILURE_KEY in item.stash and isinstance(item, pytest.Function):
            raise item.stash[FAILURE_KEY]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        try:
            return (yield)
        finally:
            for job in self._jobs.get(item.nodeid, []):
                with contextlib.suppress(Exception):
                    job.stop()  # a job a test left running must not outlive it
            if self.settings.promote and item.stash.get(PASSED_KEY, False):
                try:
                    promote_item(item, spec=item.stash.get(SPEC_KEY, None), jobs=self._jobs.get(item.nodeid, []),
                                 code_at_start=self._code_at_start, session=self.session(), settings=self.settings,
                                 hook=self.config.pluginmanager.hook)
                except ModelArtsError as exc:  # the smoke test passed; its promotion is reported as a teardown error
                    pytest.fail(f"{item.nodeid}: promotion failed: {type(exc).__name__}: {exc}", pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, JobError) and error.job is not None:
            text = self.format_failure(error)
            # --tb=line and --tb=no ask for one line: the first is the cause
            report.longrepr = text.split("\n", 1)[0] if self.config.option.tbstyle in ("line", "no") else text
        elif isinstance(error, ModelArtsError) and not isinstance(error, JobError):
            # a bad configuration, an environment that cannot be locked or built, a backend that cannot start:
            # the message says what and how to fix it; our stack is noise
            report.longrepr = f"{type(error).__name__}: {error}"
        if call.when == "call":
            item.stash[PASSED_KEY] = report.passed
        elif call.when == "teardown":
            self._finish_item(item, report)
        return report

    def _finish_item(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """The test's jobs, now that it ended: their sandboxes removed or kept, their records on the report."""
        passed = item.stash.get(PASSED_KEY, False) and report.passed
        records = []
        for job in self._jobs.pop(item.nodeid, []):
            self._code_at_start.pop(id(job), None)
            kept = True
            if passed and job.phase is JobPhase.COMPLETED and not self.settings.keep_sandboxes and job.sandbox:
                remove_sandbox(job.sandbox)
                kept = False
            elif job.sandbox and not (passed and job.phase is JobPhase.COMPLETED):  # kept to look into, up to a limit
                kept = job.sandbox not in keep_failed(job.sandbox, self.settings.keep_failed)
            records.append(JobRecord.of(job, item.nodeid, kept=kept))
        promotions = item.stash.get(PROMOTIONS_KEY, [])
        setattr(report, REPORT_ATTR, [record.to_data() for record in records])
        setattr(report, PROMOTION_ATTR, promotions)
        report.user_properties.extend(junit_properties(records, promotions))
        text = attachments(records)
        if text:
            report.sections.append(("Captured stdout modelarts", text))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        records = [JobRecord.from_data(data) for data in getattr(report, REPORT_ATTR, None) or []]
        self.records.extend(records)
        self.promotions.extend(getattr(report, PROMOTION_ATTR, None) or [])
        text = attachments(records)
        if text:
            junit_attach(self.config, report, text)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if is_controller(self.config) and self.config.get_verbosity() > -2:  # -qq: nothing of ours
            write_summary(terminalreporter, self.records, self.promotions)



def cleanup_docker_leftovers() -> None:
    """Remove containers and networks of dead earlier runs, when Docker answers."""
    with contextlib.suppress(Exception):  # Docker absent or not answering: never fail the session for it
        owners.cleanup_leftovers()
