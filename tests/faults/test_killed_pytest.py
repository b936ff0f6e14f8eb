"""pytest killed (SIGKILL) or told to stop (SIGTERM, SIGINT) while a smoke job runs: no process of the job is left,
and the next run passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.processes import tagged
from tests.support.waiting import wait_until

BOOT = """\
import os, pathlib, sys, time
print('started', flush=True)
if (pathlib.Path(__file__).parent / 'slow').exists():
    time.sleep(600)
"""

TEST = """\
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py", hyperparameters={{"tag": "{tag}"}})
def test_smoke(modelarts_job):
    assert modelarts_job.succeeded
"""


def _project(tmp_path: Path, tag: str) -> tuple[Path, Path]:
    project = tmp_path / "project"
    (project / "code").mkdir(parents=True)
    (project / "code" / "train.py").write_text(BOOT)
    (project / "test_smoke.py").write_text(TEST.format(tag=tag))
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    flag = project / "code" / "slow"  # copied with the code: the first run sleeps, the rerun does not
    flag.write_text("")
    return project, flag


def _pytest(project: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.Popen([sys.executable, "-m", "pytest", "--modelarts", "-q", "test_smoke.py"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _job_started(project: Path) -> bool:
    return any("started" in log.read_text(errors="replace") for log in (project / ".modelarts").rglob("*worker-0.log"))


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_pytest_stopped_during_a_job_leaves_no_process_and_the_rerun_passes(tmp_path, signum):
    tag = f"killed-pytest-{uuid.uuid4().hex}"
    project, flag = _project(tmp_path, tag)
    proc = _pytest(project)
    try:
        wait_until(lambda: _job_started(project) or proc.poll() is not None, 60, what="the smoke job to start")
        assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")[-2000:]
        assert tagged(tag)
        proc.send_signal(signum)
        out = proc.communicate(timeout=60)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, out[-2000:]
    wait_until(lambda: tagged(tag) == [], 30, what="no process of the job to be left")
    flag.unlink()
    rerun = _pytest(project)
    out = rerun.communicate(timeout=300)[0].decode(errors="replace")
    assert rerun.returncode == 0, out[-3000:]
    assert "1 passed" in out
