"""Without a sandbox, the run says so at the top and at the end, with the fix; with one, it says nothing more."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pytest_modelarts.backends.local.nodes import TOOLS

TESTS = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py")
def test_smoke(modelarts_job):
    pass
"""


def without_bubblewrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH that has the sandbox's other tools but no ``bwrap``: what a machine without bubblewrap has."""
    bin_dir = tmp_path / "bin-without-bwrap"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found and tool != "bwrap":
            os.symlink(found, bin_dir / tool)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("PYTEST_MODELARTS_REQUIRE_SANDBOX", raising=False)


def test_without_bubblewrap_the_header_and_the_summary_say_the_runs_are_not_faithful_and_the_fix(
        project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_bubblewrap(tmp_path, monkeypatch)
    (project.path / "code" / "train.py").write_text(
        "import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--train_url'); a, _ = p.parse_known_args()\n"
        "open('model.pkl', 'w').write('lost online')\nopen(os.path.join(a.train_url, 'kept.bin'), 'w').write('kept')\n")
    project.makepyfile(TESTS)
    result = project.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    out = result.stdout.lines
    header = [n for n, line in enumerate(out) if line.startswith("modelarts: NO SANDBOX: bwrap not found")]
    assert header and header[0] < 8, "\n".join(out)  # on the first screen, above the tests
    result.stdout.fnmatch_lines([
        "modelarts: NO SANDBOX: bwrap not found*",
        "modelarts:   local jobs run relocated, not as ModelArts runs them: jobs run as you (not ma-user), at relocated paths*",
        "modelarts:   fix: install bubblewrap and iproute2 (Debian, Ubuntu: apt-get install -y bubblewrap iproute2)*",
    ])
    result.stdout.fnmatch_lines([
        "*= ModelArts jobs =*",
        "test_smoke  Completed*",
        "    lost write: user-job-dir/model.pkl (created): online this file is lost; write it under --train_url",
        "1 local job(s) ran relocated, not in sandboxed nodes (bwrap not found*): jobs run as you*",
        "Fix: install bubblewrap and iproute2*; then run again.",
    ])


def test_with_a_sandbox_nothing_is_said(project: pytest.Pytester) -> None:

    from tests.support.requirements import require_sandbox

    require_sandbox()
    project.makepyfile(TESTS)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(passed=1)
    assert "NO SANDBOX" not in result.stdout.str() and "ran relocated" not in result.stdout.str()


def test_without_modelarts_enabled_the_header_says_nothing(project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    without_bubblewrap(tmp_path, monkeypatch)
    project.makepyfile(TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert "NO SANDBOX" not in result.stdout.str()
