"""Locking, building and job start are told through pytest's terminal reporter, and kept in the test's report."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SMOKE = """
    import pytest

    @pytest.mark.modelarts(code_dir="code", boot_file="train.py", environment="env.toml")
    def test_smoke(modelarts_job):
        assert modelarts_job.file("model.bin").read_text() == "weights"
"""

PROGRESS = [
    "modelarts: locking progress-env.conda-lock.yml (no lock yet)",
    "modelarts: building environment 'progress-env' (*) from *progress-env.conda-lock.yml",
    "modelarts: environment 'progress-env' ready in *",
    "modelarts: job test_smoke (*) started on local: locked env 'progress-env' *",
]


def cold_project(project: pytest.Pytester, cache: Path) -> pytest.Pytester:
    """An environment pinning only python, over a local interpreter: a real lock and build, in a second."""
    project.makeini(f"[pytest]\nmodelarts = yes\nmodelarts_python_source = local\nmodelarts_cache_dir = {cache}\n")
    (project.path / "env.toml").write_text('name = "progress-env"\nconda_packages = ["python=3.11"]\n')
    project.makepyfile(SMOKE)
    return project


def make_cold(project: pytest.Pytester, cache: Path) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    (project.path / "progress-env.conda-lock.yml").unlink(missing_ok=True)


def test_a_cold_run_shows_locking_building_and_the_job_start_and_keeps_them_in_the_report(
        project: pytest.Pytester, tmp_path: Path) -> None:
    cache = tmp_path / "envs"
    cold_project(project, cache)
    result = project.runpytest_subprocess("-rA")
    result.assert_outcomes(passed=1)
    # between the test's path and its result, in order; then the result on the test's path again
    result.stdout.fnmatch_lines(["test_a_cold_run_shows*.py ", *PROGRESS, "test_a_cold_run_shows*.py .*[[]100%[]]"])
    # -rA: the passed test's report holds the same lines, in a section of their own, with the job's end
    result.stdout.fnmatch_lines(["*- Captured stdout modelarts progress -*", *PROGRESS,
                                 "modelarts: job test_smoke (*) Completed in *s"])
    text = result.stdout.str()
    assert text.count("modelarts: locking progress-env") == 2  # the terminal's line and the section's, no more

    # a warm run locks and builds nothing: only the job start is told
    warm = project.runpytest_subprocess()
    warm.assert_outcomes(passed=1)
    warm.stdout.fnmatch_lines(["modelarts: job test_smoke (*) started on local: *", "*.py .*"])
    assert "modelarts: locking" not in warm.stdout.str() and "modelarts: building" not in warm.stdout.str()


def test_quiet_runs_show_no_progress_but_junitxml_keeps_it(project: pytest.Pytester, tmp_path: Path) -> None:
    cache = tmp_path / "envs"
    cold_project(project, cache)
    result = project.runpytest_subprocess("-q", "--junitxml=report.xml", "-o", "junit_logging=system-out")
    result.assert_outcomes(passed=1)
    assert "modelarts:" not in result.stdout.str() and "modelarts:" not in result.stderr.str()
    (case,) = ET.parse(project.path / "report.xml").getroot().iter("testcase")
    out = "\n".join(node.text or "" for node in case.findall("system-out"))
    for line in ["locking progress-env.conda-lock.yml", "building environment 'progress-env'", "job test_smoke ("]:
        assert f"modelarts: {line}" in out


def test_an_environment_that_cannot_be_built_keeps_what_was_told_in_the_error_report(
        project: pytest.Pytester, tmp_path: Path) -> None:
    cold_project(project, tmp_path / "envs")
    (project.path / "env.toml").write_text('name = "progress-env"\nconda_packages = ["python=3.99"]\n')
    result = project.runpytest_subprocess("-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_smoke*", "*- Captured stdout modelarts progress -*",
                                 "modelarts: locking progress-env.conda-lock.yml (no lock yet)"])


def test_xdist_workers_report_their_progress_in_the_report_not_on_the_terminal(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py")
        def test_plain(modelarts_job):
            pass
    """)
    result = project.runpytest_subprocess("--modelarts", "-n", "2", "-rA")
    result.assert_outcomes(passed=1)
    text = result.stdout.str()
    assert text.count("modelarts: job test_plain (") == 2  # in the section (started, Completed), nowhere else
    result.stdout.fnmatch_lines(["*- Captured stdout modelarts progress -*",
                                 "modelarts: job test_plain (*) started on local: *",
                                 "modelarts: job test_plain (*) Completed in *s"])


def test_on_a_terminal_a_step_under_way_is_a_live_line_that_its_result_replaces(
        project: pytest.Pytester, tmp_path: Path) -> None:
    cold_project(project, tmp_path / "envs")
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                               cwd=project.path, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0
    out = b"".join(chunks).decode()
    # the step's live line, then a carriage return and its result over it
    assert re.search(r"modelarts: (creating a uv venv over [^\r\n]*) \.\.\.\rmodelarts: \1 done in ", out), out
    assert "modelarts: job test_smoke (" in out and "1 passed" in out
