"""What every ``pytest`` run with the plugin pays before its first test: the plugin's imports, and what the first
job would wait for."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_loading_the_plugin_does_not_import_filelock() -> None:
    """filelock brings asyncio and ssl (~40 ms a run); only a run that locks, builds or promotes needs it."""
    loaded = _loaded_after("import pytest_modelarts.pytest_plugin.plugin")
    assert "pytest_modelarts.promotion.ledger" in loaded  # the module that used to import it at the top is loaded
    assert not {"filelock", "asyncio"} & loaded


def test_the_environment_modules_import_neither_asyncio_nor_rattler() -> None:
    """A run's first job loads the environment modules to find its built environment; solving and building import
    what they need (asyncio ~14 ms, rattler ~25 ms) when they run, not when the modules load."""
    loaded = _loaded_after("import pytest_modelarts.envs.build, pytest_modelarts.envs.solve, pytest_modelarts.envs.plugin")
    assert not {"asyncio", "filelock", "rattler"} & loaded


def test_the_ledger_still_locks_when_used(tmp_path: object) -> None:
    loaded = _loaded_after(
        "from pytest_modelarts.promotion.ledger import Ledger\n"
        f"ledger = Ledger({str(tmp_path)!r} + '/promotions.json')\n"
        "with ledger.claim('k' * 16):\n    pass"
    )
    assert "filelock" in loaded


FIRST_JOB = """
import pytest
from pytest_modelarts.backends.local.execution import SUPERVISORS
from pytest_modelarts.backends.local.holder import ONE_WORKER_HOLDERS
from pytest_modelarts.backends.local.nodes import unavailable

@pytest.mark.modelarts(code_dir="code", boot_file="train.py")
def test_first(estimator):
    # before this run's first job: its supervisor (and its node's holder) were started when the tests were collected
    assert len(SUPERVISORS.waiting()) == 2
    assert len(ONE_WORKER_HOLDERS.waiting()) == (2 if unavailable() is None else 0)
    estimator.fit(wait=True)
"""


def test_the_first_jobs_processes_start_when_the_tests_are_collected(project: pytest.Pytester) -> None:
    project.makepyfile(FIRST_JOB)
    project.runpytest_subprocess("--modelarts").assert_outcomes(passed=1)


def test_collecting_only_starts_nothing(project: pytest.Pytester) -> None:
    project.makepyfile(FIRST_JOB)
    project.makeconftest("""
def pytest_unconfigure(config):
    from pytest_modelarts.backends.local.execution import SUPERVISORS
    print("waiting supervisors:", len(SUPERVISORS.waiting()))
""")
    result = project.runpytest_subprocess("--modelarts", "--collect-only", "-s")
    result.stdout.fnmatch_lines(["waiting supervisors: 0"])


def test_the_platform_is_known_without_importing_rattler() -> None:
    """Which platform this is, every run asks; rattler (~25 ms to import) answers only machines the table lacks."""
    loaded = _loaded_after("from pytest_modelarts.envs.lockfile import current_platform\ncurrent_platform()")
    assert "rattler" not in loaded
