"""pytest killed (SIGKILL) while a job's requirements are being installed: no installer process is left, nor
anything a package's build started (the installer runs in the job's namespaces and dies with its parent)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psutil
import pytest

from tests.support.processes import tagged
from tests.support.requirements import require_sandbox
from tests.support.waiting import wait_until

BACKEND = '''
import subprocess, sys, time

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "%(tag)s"])  # a daemon of the build
    time.sleep(600)
'''

RUN = """\
import sys
from pytest_modelarts import Estimator, Session
session = Session(local_root=sys.argv[1], stream_logs=False, stop_grace_period=1, sandbox=True)
Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="train.py", train_instance_type="local",
          train_instance_count=1).fit(wait=True)
"""


def slow_sdist(folder: Path, tag: str) -> str:
    members = {"slow-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: slow\nVersion: 1.0\n",
               "slow-1.0/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
                                          '[project]\nname = "slow"\nversion = "1.0"\n',
               "slow-1.0/backend.py": BACKEND % {"tag": tag}}
    with tarfile.open(folder / "slow-1.0.tar.gz", "w:gz") as tar:
        for name, text in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return "slow-1.0.tar.gz"


def command_lines(tag: str) -> list[str]:
    """The command lines of the live processes carrying ``tag`` (one that ends meanwhile is left out)."""
    found = []
    for proc in tagged(tag):
        try:
            found.append(" ".join(proc.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture(autouse=True)
def _nodes_available() -> None:
    require_sandbox()


def test_pytest_killed_during_a_requirements_install_leaves_no_installer(tmp_path: Path) -> None:
    tag = f"killed-install-{uuid.uuid4().hex}"
    code = tmp_path / "code"
    code.mkdir()
    (code / "requirements.txt").write_text(f"./{slow_sdist(code, tag)}\n")
    (code / "train.py").write_text("print('never')\n")
    root = tmp_path / tag  # uv's command line names its target under it
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(root), str(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        def building() -> bool:
            assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")[-3000:]
            return any("time.sleep(600)" in line for line in command_lines(tag))
        wait_until(building, 120, what="the package's build to be under way")
        assert any(os.path.basename(line.split()[0]) == "uv" for line in command_lines(tag)), command_lines(tag)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_until(lambda: tagged(tag) == [], 30,
               what=lambda: f"no installer process to be left: {command_lines(tag)}")


PARENT = """\
import subprocess, sys
from pytest_modelarts.core.deathsig import die_with_parent
subprocess.run([sys.executable, "-c", "import time; time.sleep(600)", sys.argv[1]], preexec_fn=die_with_parent)
"""


def test_an_installer_started_to_die_with_its_parent_ends_when_the_parent_is_killed() -> None:
    """What the environment build's uv and the relocated install are started with: SIGKILL of the process that
    started them (pytest) ends them too, where no namespace of ours holds them."""
    tag = f"dies-with-parent-{uuid.uuid4().hex}"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, tag])
    try:
        wait_until(lambda: command_lines(tag) and len(command_lines(tag)) == 2, 60, what="the child to start")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    wait_until(lambda: command_lines(tag) == [], 30, what=lambda: f"the child to end: {command_lines(tag)}")
