"""Old Pythons of ModelArts' engines over local interpreters (pyenv's, uv's, the usual prefixes): python=3.6 locks
and runs; pip packages resolve for the interpreter's full version; the SDK example's own stack (python 3.6 with
tensorflow 1.13.1 from PyPI) runs a boot file that copies its data to /cache with moxing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment, Estimator, Session
from pytest_modelarts.envs.interpreters import Interpreter, find_interpreters
from pytest_modelarts.envs.lock import lock_environment
from tests.support.requirements import missing


def interpreter(minor: str, at_least: str = "") -> Interpreter:
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(x) for x in version.split(".") if x.isdigit())

    found = next((i for i in find_interpreters() if i.minor == minor and key(i.version) >= key(at_least or minor)), None)
    if found is None:
        missing(f"python{minor}", f"no Python {at_least or minor} on this machine (pyenv install {minor}, or list one in PYTEST_MODELARTS_PYTHONS)")
    return found


@pytest.fixture
def local_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")
    monkeypatch.chdir(tmp_path)  # the lock goes next to the caller, as by default


def test_python_3_6_locks_and_runs_with_python_source_local_and_nothing_else(tmp_path: Path, local_python: None) -> None:
    interpreter("3.6")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import sys\nprint('python', '%d.%d' % sys.version_info[:2])\n")
    env = Environment("old36")
    env.conda = CondaDependencies.create(conda_packages=["python=3.6"])
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, environment=env).fit(wait=True)
    assert "python 3.6" in job.logs()
    assert (tmp_path / "old36.conda-lock.yml").is_file()


def test_pip_packages_resolve_for_the_interpreters_full_version(tmp_path: Path, local_python: None) -> None:
    """pandas 1.3.5 requires Python >= 3.7.1: it locks for a local 3.7.16, which "3.7" (3.7.0) would not allow."""
    found = interpreter("3.7", at_least="3.7.1")
    spec = CondaDependencies.create(conda_packages=["python=3.7"], pip_packages=["pandas==1.3.5"])
    locked = lock_environment(spec, tmp_path / "p37.conda-lock.yml", "create", cache_dir=tmp_path / "cache", python_source="local")
    assert locked.python_version == "3.7"
    assert {p.name: p.version for p in locked.pip}["pandas"] == "1.3.5"
    assert any("cp37" in p.url for p in locked.pip if p.name == "pandas"), found


SEED_BOOT_FILE = """\
# the SDK example's stack: Python 3.6, TensorFlow 1.13.1, data copied to /cache with moxing
import argparse
import os

import moxing as mox
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument('--data_url', required=True)
parser.add_argument('--train_url', required=True)
args, _ = parser.parse_known_args()

mox.file.copy_parallel(args.data_url, '/cache/data')
values = [float(line) for line in open('/cache/data/values.txt')]
total = tf.reduce_sum(tf.constant(values))
with tf.Session() as session:
    result = session.run(total)
os.makedirs('/cache/out')
with open('/cache/out/sum.txt', 'w') as f:
    f.write('%.1f' % result)
mox.file.copy_parallel('/cache/out', args.train_url)
print('tensorflow', tf.__version__, 'sum', result)
"""


def test_the_sdk_examples_stack_runs_a_moxing_boot_file(tmp_path: Path, local_python: None) -> None:
    """python 3.6 + tensorflow==1.13.1 (from PyPI: conda channels are not reachable here) and copy_parallel to /cache."""
    interpreter("3.6")
    code = tmp_path / "code"
    code.mkdir()
    (code / "tensorflow_mlp_mnist.py").write_text(SEED_BOOT_FILE)
    data = tmp_path / "data"
    data.mkdir()
    (data / "values.txt").write_text("1.5\n2.5\n3\n")
    env = Environment("tensorflow_mlp_mnist")
    env.conda = CondaDependencies.create(pip_packages=["tensorflow==1.13.1"], conda_packages=["python=3.6"])
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="tensorflow_mlp_mnist.py", train_instance_type="local",
                    train_instance_count=1, environment=env, output_path=str(tmp_path / "out")).fit(inputs=str(data), wait=True)
    logs = job.logs()
    assert "tensorflow 1.13.1 sum 7.0" in logs, logs[-3000:]
    assert (tmp_path / "out" / "sum.txt").read_text() == "7.0"


def test_pip_packages_for_python_2_7_are_refused_with_what_to_do(tmp_path: Path, local_python: None) -> None:
    from pytest_modelarts import LockError

    interpreter("2.7")
    spec = CondaDependencies.create(conda_packages=["python=2.7"], pip_packages=["six==1.16.0"])
    with pytest.raises(LockError, match=r"cannot be locked for Python 2\.7\.\d+: uv resolves for Python 3\.6 and later only; "
                                        r"list them in the code directory's requirements\.txt"):
        lock_environment(spec, tmp_path / "p27.conda-lock.yml", "create", cache_dir=tmp_path / "cache", python_source="local")
    assert not (tmp_path / "p27.conda-lock.yml").exists()
