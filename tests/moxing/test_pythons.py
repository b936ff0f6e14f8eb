"""The local moxing inside real local jobs on the Pythons ModelArts engines have: 2.7 (MXNet, Caffe, TF 1.x), 3.6
(TensorFlow 1.13.1, the SDK example's own Python) and 3.11; on every other one found, its whole file API once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment, Estimator, Session
from pytest_modelarts.envs.interpreters import Interpreter, find_interpreters
from tests.support.requirements import missing

from .conftest import JOB_SITE

ENGINE_PYTHONS = ("2.7", "3.6", "3.11")
ALL_PYTHONS = ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")

# written in 2.7's syntax, as the boot files of that era are
IMPORTS = """\
from __future__ import print_function
import argparse, os, sys
import moxing
import moxing.tensorflow as mox
from moxing.framework import file
import moxing.pytorch, moxing.mxnet
assert mox.file is file is moxing.file is moxing.pytorch.file is moxing.mxnet.file
parser = argparse.ArgumentParser()
parser.add_argument('--data_url')
parser.add_argument('--train_url')
args, _ = parser.parse_known_args()
mox.file.copy_parallel(args.data_url, '/cache/data')
names = mox.file.list_directory('/cache/data', recursive=True)
mox.file.write(os.path.join(args.train_url, 'names.txt'), ','.join(names))
try:
    mox.run(run_mode=mox.ModeKeys.TRAIN)
except NotImplementedError as error:
    print('mox.run:', str(error).split(' is ')[0])
print('python %d.%d' % sys.version_info[:2], 'moxing', moxing.__version__, names)
"""


def interpreter(minor: str) -> Interpreter:
    found = next((i for i in find_interpreters() if i.minor == minor), None)
    if found is None:
        missing(f"python{minor}", f"no Python {minor} on this machine (pyenv install {minor}, or list it in PYTEST_MODELARTS_PYTHONS)")
    return found


@pytest.fixture
def local_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")


@pytest.mark.parametrize("minor", ENGINE_PYTHONS)
def test_moxing_imports_and_copies_inside_a_job(minor: str, tmp_path: Path, local_python: None, monkeypatch: pytest.MonkeyPatch) -> None:
    interpreter(minor)
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(IMPORTS)
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "images" / "0.png").write_bytes(b"png")
    (data / "labels.txt").write_text("cat\n")
    env = Environment("py" + minor.replace(".", ""), conda=CondaDependencies.create(conda_packages=[f"python={minor}"]))
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, environment=env, output_path=str(tmp_path / "out")).fit(inputs=str(data), wait=True)
    logs = job.logs()
    assert f"python {minor} moxing 2.0.0+local" in logs, logs
    assert "['images', 'images/0.png', 'labels.txt']" in logs
    assert "mox.run: mox.run (moxing.tensorflow)" in logs
    assert (tmp_path / "out").joinpath("names.txt").read_text() == "images,images/0.png,labels.txt"


def every_call(python: str, tmp_path: Path) -> list[object]:
    import json
    import os

    (tmp_path / "obs").mkdir(parents=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(JOB_SITE), "HOME": str(tmp_path),
           "PYTEST_MODELARTS_LOCAL_OBS": json.dumps({"root": str(tmp_path / "obs"), "buckets": {}})}
    done = subprocess.run([python, str(Path(__file__).with_name("every_python.py")), str(tmp_path), "--batch=32"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers: list[object] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize("minor", ALL_PYTHONS)
def test_every_file_call_answers_alike_on_every_python(minor: str, tmp_path: Path) -> None:
    """Each Python gives the answers of the Python running the tests, which tests/moxing/test_file.py checks."""
    import sys

    theirs = every_call(str(interpreter(minor).path), tmp_path / "theirs")
    ours = every_call(sys.executable, tmp_path / "ours")
    assert theirs == ours
    answers = dict(ours)  # type: ignore[arg-type]
    assert answers["list recursive"] == ["a.txt", "empty", "empty/deeper", "empty/one", "lines.txt", "sub", "sub/b.bin", "sub/c.bin"]
    assert answers["exists"] == [True, False, False]
    assert answers["errors"] == [["MoxFileNotExistsException", "ENOENT"], ["MoxLocalObsException"], ["EISDIR"], ["ENOTDIR"],
                                 ["MoxUnsupportedError"], ["MoxFileNotExistsException", "ENOENT"]]
    assert answers["run parameters"] == [1, "32", 0.5, 7, "TRAIN", "EXPORT"]


def test_a_python_2_7_job_installs_its_requirements_with_its_own_pip(tmp_path: Path, local_python: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv installs for Python 3.6+ only; a 2.7 image's pip installs the code directory's requirements.txt."""
    interpreter("2.7")
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import six, moxing\nprint('six', six.__version__, 'on', six.PY2)\n")
    (code / "requirements.txt").write_text("six==1.16.0\n")
    env = Environment("py27", conda=CondaDependencies.create(conda_packages=["python=2.7"]))
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, environment=env).fit(wait=True)
    assert "('six', '1.16.0', 'on', True)" in job.logs()
