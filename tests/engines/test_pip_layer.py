"""``pip install`` while the job runs: into a layer of the job's own, from the index only when the switch allows it.

The user guide's "method 2" (``os.system('pip install ...')`` in the boot file): online the preset image's pip
reaches ModelArts' pip mirror. Locally the job's environment is cached and shared, so it must come out unchanged;
the index is reached only with ``PYTEST_MODELARTS_PIP_INDEX=1`` (off by default, as a job's network is closed).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import CondaDependencies, Environment, Estimator, JobPhase, Session
from pytest_modelarts.core.piplayer import REFUSAL, SWITCH_VARIABLE

INSTALLS_SIX = """\
import os, sys
status = os.system('pip install six==1.16.0')
if status != 0:
    sys.exit('pip install failed')
import six
print('six', six.__version__, 'from', os.path.dirname(six.__file__))
"""


def _tree_hash(root: Path) -> str:
    """Every path, mode and content under ``root``."""
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            digest.update(str(path.relative_to(root)).encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            else:
                digest.update(oct(path.stat().st_mode).encode() + path.read_bytes())
    return digest.hexdigest()


def _run(tmp_path: Path, cache: Path) -> tuple[Any, Path]:
    code = tmp_path / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(INSTALLS_SIX)
    session = Session(local_root=tmp_path / "root", stream_logs=False, cache_dir=cache, python_source="local")
    env = Environment("no-six", conda=CondaDependencies.create(conda_packages=["python=3.11"]), lock_file=cache.parent / "no-six.lock.yml")
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", environment=env,
                    train_instance_type="local", train_instance_count=1).fit(wait=False)
    job.wait()
    assert job.runtime is not None and job.runtime.prefix is not None
    return job, job.runtime.prefix


def test_pip_install_at_run_time_goes_into_the_jobs_layer_with_the_switch_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH_VARIABLE, "1")
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    first, prefix = _run(tmp_path / "first", tmp_path / "cache")  # builds the shared environment
    assert first.phase is JobPhase.COMPLETED, first.logs()
    before = _tree_hash(prefix)
    job, again = _run(tmp_path / "second", tmp_path / "cache")  # the same environment, from the cache
    assert again == prefix
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert "six 1.16.0 from" in job.logs() and "/pip-layer/site" in job.logs()
    assert _tree_hash(prefix) == before  # the shared environment is as it was


def test_pip_install_without_the_switch_fails_with_one_line_saying_how_to_allow_it(tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SWITCH_VARIABLE, raising=False)
    first, prefix = _run(tmp_path / "first", tmp_path / "cache")  # builds the shared environment
    before = _tree_hash(prefix)
    job, _ = _run(tmp_path / "second", tmp_path / "cache")
    assert first.phase is job.phase is JobPhase.FAILED
    logs = job.logs()
    assert REFUSAL in logs and f"{SWITCH_VARIABLE}=1" in REFUSAL
    assert logs.count(REFUSAL) == 1
    assert _tree_hash(prefix) == before
