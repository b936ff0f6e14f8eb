"""What a run does before its result, through pytest's terminal reporter: locking and building an environment,
starting and ending a job.

A cold run locks and builds for seconds inside a test's setup or call, where pytest captures output: said on
stderr, it was lost. :class:`ProgressReporter` is the Session's :class:`~pytest_modelarts.core.session.ProgressSink`
and a pytest plugin:

* on the terminal (pytest's terminal reporter, with capture suspended as pytest's live logging does): a live
  line for a step under way on a TTY, replaced by the step's line when it ends; plain lines otherwise; nothing
  under ``-q``, nor on an xdist worker (which has no terminal of its own);
* in the test's reports, always: a ``Captured stdout modelarts progress`` section (``-rA``, failures, junitxml's
  ``system-out`` with ``junit_logging = system-out``), carried to the xdist controller with the report;
* while a step or a job runs long, a heartbeat every ``$PYTEST_MODELARTS_HEARTBEAT`` seconds (default 30; 0: none):
  the step or job, its elapsed time and (for a job) its last log line. On a TTY it renews the live line; elsewhere
  (CI's log) it is a plain line. An xdist worker, which has no terminal, writes its step lines and heartbeats to the
  session's stderr with its id (``[gw0] modelarts: ...``): a cold environment build under ``-n`` is not silent.

Steps may be told from other threads (a build started by a test's own thread): one lock serialises everything.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
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
#: seconds between heartbeats of a long step or job; 0 turns them off
HEARTBEAT_VARIABLE = "PYTEST_MODELARTS_HEARTBEAT"
DEFAULT_HEARTBEAT = 30.0


def heartbeat_interval(environ: os._Environ[str] | dict[str, str] = os.environ) -> float | None:
    """The heartbeat's period from ``$PYTEST_MODELARTS_HEARTBEAT`` (seconds), None when 0; a bad value is a usage error."""
    text = environ.get(HEARTBEAT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_HEARTBEAT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise pytest.UsageError(f"{HEARTBEAT_VARIABLE}={text!r}: give the seconds between heartbeat lines of a long step "
                                f"or job, e.g. 30 (0: none)")
    return value or None


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
        self.interval = heartbeat_interval()
        self._started: list[float] = []  # when each step under way began (monotonic), as _steps
        self._running: dict[int, tuple[TrainingJob, float]] = {}  # id(job) -> (job, its start)
        self._said: dict[object, float] = {}  # a step's or job's key -> when its last line or heartbeat was said
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- the sink ---------------------------------------------------------------------------------------
    def begin(self, message: str) -> None:
        with self._lock:
            self._steps.append(message)
            self._started.append(time.monotonic())
            self._said[("step", len(self._steps))] = self._started[-1]
            self._heartbeat()
            terminal = self._terminal()
            if terminal is not None:  # announced as it starts: on a TTY a live line, elsewhere a line of its own
                with self._uncaptured():
                    self._show(terminal, f"{PREFIX}{message} ...", live=bool(terminal.isatty))
            else:
                self._to_worker_stderr(f"{message} ...")

    def end(self) -> None:
        with self._lock:
            if self._steps:
                self._said.pop(("step", len(self._steps)), None)
                self._steps.pop()
                self._started.pop()

    def line(self, message: str, *, show: bool = True, on_worker: bool = True) -> None:
        """A finished line: in the test's report section, and on the terminal when ``show`` (on an xdist worker's
        stderr when ``on_worker`` too: a job's start is in the controller's summary, an environment's build is not)."""
        with self._lock:
            if self.nodeid is not None:
                self._lines.setdefault(self.nodeid, []).append(message)
            terminal = self._terminal() if show else None
            if terminal is None:
                if show and on_worker:
                    self._to_worker_stderr(message)
                return
            with self._uncaptured():
                self._show(terminal, PREFIX + message, live=False)
                if self._steps and terminal.isatty:  # an outer step still runs: show it again, below
                    self._show(terminal, f"{PREFIX}{self._steps[-1]} ...", live=True)

    def _to_worker_stderr(self, message: str) -> None:
        """On an xdist worker (no terminal of its own), a line on the session's stderr, with the worker's id."""
        workerinput = getattr(self.config, "workerinput", None)
        if workerinput is None or self.config.get_verbosity() < 0:
            return
        with self._uncaptured(), contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"[{workerinput.get('workerid', '?')}] {PREFIX}{message}\n")
            sys.stderr.flush()

    # -- the heartbeat ----------------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        """Start the heartbeat's thread, once (called under the lock)."""
        if self.interval is None or self._beat is not None:
            return
        self._beat = threading.Thread(target=self._beat_loop, name="modelarts-heartbeat", daemon=True)
        self._beat.start()

    def _beat_loop(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(min(self.interval, 1.0)):
            with self._lock:
                now = time.monotonic()
                due: list[str] = []
                if self._steps and now - self._said.get(("step", len(self._steps)), now) >= self.interval:
                    self._said[("step", len(self._steps))] = now
                    due.append(f"{self._steps[-1]} ... still running after {_seconds(now - self._started[-1])}")
                for key, (job, started) in list(self._running.items()):
                    if now - self._said.get(key, started) >= self.interval:
                        self._said[key] = now
                        last = _last_line(job)
                        due.append(f"job {job.job_name} ({job.job_id}) running for {_seconds(now - started)}"
                                   + (f"; last log line: {last}" if last else ""))
                terminal = self._terminal()
                for text in due:
                    if terminal is not None:
                        with self._uncaptured():
                            self._show(terminal, PREFIX + text, live=bool(terminal.isatty))
                    else:
                        self._to_worker_stderr(text)

    def pytest_sessionfinish(self) -> None:
        self._stop.set()

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
        self.line(f"job {job.job_name} ({job.job_id}) started on {where}", on_worker=False)
        with self._lock:
            self._running[id(job)] = (job, time.monotonic())
            self._heartbeat()

    @pytest.hookimpl
    def pytest_modelarts_job_finished(self, job: TrainingJob) -> None:
        with self._lock:
            self._running.pop(id(job), None)
            self._said.pop(id(job), None)
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


def _last_line(job: TrainingJob, width: int = 160) -> str | None:
    """The job's last line of output (ours left out), cut to ``width``; None when it printed nothing yet."""
    try:
        lines = job.tail(5)
    except Exception:  # a log that cannot be read now is read at the next beat
        return None
    said = [line.strip() for line in lines if line.strip() and not line.startswith("[pytest-modelarts]")]
    if not said:
        return None
    return said[-1] if len(said[-1]) <= width else said[-1][: width - 3] + "..."


def _seconds(elapsed: float) -> str:
    return f"{elapsed:.1f}s" if elapsed < 10 else f"{elapsed:.0f}s"
