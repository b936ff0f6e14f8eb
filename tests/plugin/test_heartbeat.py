"""Long steps and jobs are never silent: announced as they start, then a heartbeat with the elapsed time and the
job's last log line, on a terminal-less run (CI's log) and from xdist workers alike. The heartbeat's period comes
from ``$PYTEST_MODELARTS_HEARTBEAT``; the tests use a small one and never time anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugin.test_progress import cold_project

SLOW = """\
import time
for epoch in range(8):
    print("epoch", epoch, flush=True)
    time.sleep(0.25)
"""

TEST = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="slow.py")
def test_slow(modelarts_job):
    pass
"""


def test_a_long_job_gets_heartbeat_lines_with_its_elapsed_time_and_last_log_line(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_HEARTBEAT", "0.2")
    (project.path / "code" / "slow.py").write_text(SLOW)
    project.makepyfile(TEST)
    result = project.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")  # stdout is a pipe: no TTY
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["modelarts: job test_slow (*) started on local: *",
                                 "modelarts: job test_slow (*) running for *s; last log line: epoch *"])


def test_heartbeats_from_xdist_workers_reach_the_sessions_stderr_with_the_workers_id(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist")
    monkeypatch.setenv("PYTEST_MODELARTS_HEARTBEAT", "0.2")
    (project.path / "code" / "slow.py").write_text(SLOW)
    project.makepyfile(TEST)
    result = project.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1)
    result.stderr.fnmatch_lines(["[[]gw?[]] modelarts: job test_slow (*) running for *s; last log line: epoch *"])


def test_without_a_terminal_each_step_is_announced_when_it_starts(project: pytest.Pytester, tmp_path: Path) -> None:
    cold_project(project, tmp_path / "envs")
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["modelarts: creating a uv venv over * ...", "modelarts: creating a uv venv over * done in *s"])


def test_a_cold_build_under_xdist_is_told_by_its_worker(project: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    cold_project(project, tmp_path / "envs")
    result = project.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=1)
    result.stderr.fnmatch_lines(["[[]gw?[]] modelarts: building environment 'progress-env' *",
                                 "[[]gw?[]] modelarts: creating a uv venv over * ...",
                                 "[[]gw?[]] modelarts: environment 'progress-env' ready in *"])


@pytest.mark.parametrize("value", ["soon", "-1", "inf"])
def test_a_bad_heartbeat_period_is_a_usage_error(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_HEARTBEAT", value)
    project.makepyfile(TEST)
    result = project.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*PYTEST_MODELARTS_HEARTBEAT='{value}': give the seconds between heartbeat lines*"])


def test_a_long_step_gets_heartbeat_lines_with_its_elapsed_time(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step (here one a test opens itself through the plugin's sink) that outlasts the period is said again."""
    monkeypatch.setenv("PYTEST_MODELARTS_HEARTBEAT", "0.1")
    project.makepyfile("""
        import time

        def test_step(request):
            progress = request.config.pluginmanager.get_plugin("modelarts-progress")
            progress.begin("installing 80 pip packages")
            time.sleep(1.5)  # fifteen periods: a beat comes on the slowest machine
            progress.end()
            progress.line("installing 80 pip packages done in 1.50s")
    """)
    result = project.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["modelarts: installing 80 pip packages ...",
                                 "modelarts: installing 80 pip packages ... still running after *s",
                                 "modelarts: installing 80 pip packages done in 1.50s"])
