"""python=3.6 locks and runs over a local interpreter where pyenv (or uv, or the usual prefixes) has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment, Estimator, Session
from pytest_modelarts.envs.interpreters import find_interpreters


def test_python_3_6_locks_and_runs_with_python_source_local_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not any(i.minor == "3.6" for i in find_interpreters()):
        pytest.skip("no Python 3.6 on this machine (pyenv install 3.6.15, for one)")
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")
    monkeypatch.chdir(tmp_path)  # the lock goes next to the caller, as by default
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
