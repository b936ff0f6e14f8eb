"""pytest killed (SIGKILL) while it builds a locked environment: no process left, the half-built environment is never
used, and the rerun builds it and passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pytest_modelarts.envs.cache import EnvCache
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)
from tests.support.processes import tagged
from tests.support.waiting import wait_until

TEST = """\
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py", environment="e.env.toml")
def test_in_env(modelarts_job):
    assert modelarts_job.succeeded
    modelarts_job.assert_log_contains("minipy imported")
"""


def _pytest(project: Path, cache: Path, pkgs: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTEST_MODELARTS_PKGS_DIR": str(pkgs)}
    env.pop("PYTEST_MODELARTS_PYTHON", None)
    return subprocess.Popen([sys.executable, "-m", "pytest", "--modelarts", "-q", f"--modelarts-cache-dir={cache}"],
                            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_pytest_killed_during_an_environment_build(tmp_path: Path, conda_channel: LocalChannel) -> None:  # noqa: F811
    project, cache, pkgs = tmp_path / "project", tmp_path / "cache", tmp_path / "pkgs"
    (project / "code").mkdir(parents=True)
    (project / "code" / "train.py").write_text("import minipy\nprint('minipy imported')\n")
    (project / "e.env.toml").write_text(f'channels = ["{conda_channel.url}"]\nconda_packages = ["python=3.11", "minipy"]\n')
    (project / "test_env.py").write_text(TEST)
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    store = EnvCache(cache)

    def building() -> bool:
        assert proc.poll() is None, "pytest ended before the build was caught: " + proc.communicate()[0].decode()[-2000:]
        return store.staging.is_dir() and any((d / "bin").exists() for d in store.staging.iterdir())

    proc = _pytest(project, cache, pkgs)
    try:
        wait_until(building, 120, what="the environment build to be under way")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_until(lambda: tagged(str(cache)) == [], 30, what="no process of the build to be left")
    assert not store.builds(), "a half-built environment was published"
    assert not (store.envs.is_dir() and any(store.envs.iterdir())), sorted(store.envs.iterdir())
    rerun = _pytest(project, cache, pkgs)
    out = rerun.communicate(timeout=600)[0].decode(errors="replace")
    assert rerun.returncode == 0, out[-3000:]
    assert "1 passed" in out
    assert len(store.builds()) == 1
    assert not (store.staging.is_dir() and any(store.staging.iterdir()))  # the leftover was removed
