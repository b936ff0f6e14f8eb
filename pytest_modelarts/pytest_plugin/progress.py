"""What a run does before its result, through pytest's terminal reporter: locking and building an environment,
starting and ending a job.

A cold run locks and builds for seconds inside a test's setup or call, where pytest captures output: said on
stderr, it was lost. :class:`ProgressReporter` is the Session's :class:`~pytest_modelarts.core.session.ProgressSink`
and a pytest plugin:

* on the terminal (pytest's terminal reporter, with capture suspended as pytest's live logging does): a live
  line for a step under way on a TTY, replaced by the step's line when it ends; plain lines otherwise; nothing
  under ``-q``, nor on an xdist worker (which has no terminal of its own);
* in the test's reports, always: a ``Captured stdout modelarts progress`` section (``-rA``, failures, junitxml's
  ``system-out`` with ``junit_logging = system-out``), carried to the xdist controller with the report.

Steps may be told from other threads (a build started by a test's own thread): one lock serialises everything.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .fidelity import header_lines, why_relocated

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter

    from ..core.training_job import TrainingJob

#: the report section holding a test's progress lines ("Captured stdout": junitxml puts it in system-out)
SECTION = "Captured stdout modelarts progress"
PREFIX = "modelarts: "


class ProgressReporter:
    """The pytest plugin's progress sink: terminal lines (live on a TTY) and a report section per test."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._steps: list[str] = []  # the steps under way, innermost last
        self._live = False  # a live line (no newline after it) is on the terminal
        self._wrote = False  # lines of ours follow the test's path on the terminal
        self.nodeid: str | None = None  # the test under way, from its logstart to its logfinish (also the runner's)
        self._lines: dict[str, list[str]] = {}

    # -- the sink ---------------------------------------------------------------------------------------
    def begin(self, message: str) -> None:
        with self._lock:
            self._steps.append(message)
            terminal = self._terminal()
            if terminal is not None and terminal.isatty:
                with self._uncaptured():
                    self._show(terminal, f"{PREFIX}{message} ...", live=True)

    def end(self) -> None:
        with self._lock:
            if self._steps:
                self._steps.pop()

    def line(self, message: str, *, show: bool = True) -> None:
        """A finished line: in the test's report section, and on the terminal when ``show``."""
        with self._lock:
            if self.nodeid is not None:
                self._lines.setdefault(self.nodeid, []).append(message)
            terminal = self._terminal() if show else None
            if terminal is None:
                return
            with self._uncaptured():
                self._show(terminal, PREFIX + message, live=False)
                if self._steps and terminal.isatty:  # an outer step still runs: show it again, below
                    self._show(terminal, f"{PREFIX}{self._steps[-1]} ...", live=True)

    def _terminal(self) -> TerminalReporter | None:
        if hasattr(self.config, "workerinput") or self.config.get_verbosity() < 0:
            return None
        terminal: TerminalReporter | None = self.config.pluginmanager.get_plugin("terminalreporter")
        return terminal

    @contextlib.contextmanager
    def _uncaptured(self) -> Iterator[None]:
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            yield

    def _show(self, terminal: TerminalReporter, text: str, *, live: bool) -> None:
        if self._live and terminal.isatty:
            terminal.rewrite(text, erase=True)  # over the live line
        else:
            terminal.ensure_newline()
            terminal.write(text)
        terminal.flush()
        # the line stays open: pytest's next write (a result letter, a path, a line) starts a new one
        terminal.currentfspath = -2
        self._live = live
        self._wrote = True

    # -- the project's hooks ----------------------------------------------------------------------------
    @pytest.hookimpl
    def pytest_modelarts_job_started(self, job: TrainingJob) -> None:
        where = f"{job.backend}: {job.runtime.describe()}" if job.runtime is not None else job.backend
        self.line(f"job {job.job_name} ({job.job_id}) started on {where}")

    @pytest.hookimpl
    def pytest_modelarts_job_finished(self, job: TrainingJob) -> None:
        # the report only: the terminal says how the test ended right below
        self.line(f"job {job.job_name} ({job.job_id}) {job.phase.value} in {job.duration:.2f}s", show=False)

    # -- pytest hooks -----------------------------------------------------------------------------------
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """Where local jobs cannot run as ModelArts runs them (no sandbox), the first screen says so and how to fix it."""
        from .options import Settings

        if not Settings.from_config(config).enabled:
            return []
        why = why_relocated()
        return header_lines(why) if why is not None else []

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        with self._lock:
            self.nodeid = nodeid

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        with self._lock:
            self.nodeid = None
            self._lines.pop(nodeid, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before pytest writes a test's result letter after the test's path: the path again, below our lines."""
        if report.when != "call" and report.passed:  # no letter
            return
        with self._lock:
            terminal = self._terminal()
            if not self._wrote or terminal is None or not terminal.showfspath \
                    or self.config.get_verbosity(pytest.Config.VERBOSITY_TEST_CASES) > 0:  # -v writes the path itself
                return
            with self._uncaptured():
                terminal.currentfspath = None
                terminal.write_fspath_result(report.nodeid, "")
            self._wrote = self._live = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report: pytest.TestReport = yield
        with self._lock:
            lines = list(self._lines.get(item.nodeid, ()))
        if lines:  # every phase's report has the lines so far, as pytest's captured output sections do
            report.sections.append((SECTION, "".join(f"{PREFIX}{line}\n" for line in lines)))
        return report
