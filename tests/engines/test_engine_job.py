"""A job that names a preset engine runs locally on the engine's Python and framework, and goes online on it.

The PyTorch engine of the catalog (``pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64``: Python 3.7, torch
1.8.0, run user 1102) is reproduced from a local Python 3.7 and a stand-in torch 1.8.0 of the test's own index
(tests/support/engines.py): what is proven is that the engine's pins are what the job gets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pytest_modelarts import CondaDependencies, Environment, Estimator, JobPhase, Session
from pytest_modelarts.core import engines
from pytest_modelarts.errors import ConfigurationError
from pytest_modelarts.promotion import Ledger, SmokeRun, promote

PYTORCH = engines.find("PyTorch", None)

IMPORTS_TORCH = """\
import argparse, json, os, sys
import torch
p = argparse.ArgumentParser(); p.add_argument('--data_url'); p.add_argument('--train_url')
a = p.parse_args()
seen = {'torch': torch.__version__, 'python': '%d.%d' % sys.version_info[:2], 'version': sys.version,
        'uid': os.getuid(), 'user': os.environ.get('USER')}
with open(os.path.join(a.train_url, 'seen.json'), 'w') as f:
    json.dump(seen, f)
"""


def _code(tmp_path: Path, source: str = IMPORTS_TORCH) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(source)
    return code


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.chdir(tmp_path)  # an engine job's lock is written next to the caller, as every environment's
    return Session(local_root=tmp_path / "root", stream_logs=False, cache_dir=tmp_path / "cache", python_source="local")


def test_a_boot_file_importing_torch_runs_on_the_engines_python_and_torch(use_engine_index: Path, session: Session,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = Estimator(modelarts_session=session, code_dir=str(_code(tmp_path)), boot_file="train.py", framework_type="PyTorch",
                    train_instance_type="local", train_instance_count=1, output_path=str(out)).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    seen = json.loads((out / "seen.json").read_text())
    assert seen["torch"] == PYTORCH.framework_version == "1.8.0"
    assert seen["python"] == PYTORCH.python and seen["version"].startswith(PYTORCH.python + ".")
    assert seen["uid"] == PYTORCH.run_user == 1102  # the engine's run_user, as the API lists it


def test_the_lock_of_an_engine_job_records_the_engine(use_engine_index: Path, session: Session, tmp_path: Path) -> None:
    env = Environment("with-six", conda=CondaDependencies.create(pip_packages=["six==1.16.0"]))
    code = _code(tmp_path, IMPORTS_TORCH.replace("import torch\n", "import torch, six\nassert six.__version__ == '1.16.0'\n"))
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", framework_type="PyTorch",
                    framework_version=PYTORCH.engine_id, environment=env, train_instance_type="local",
                    train_instance_count=1, output_path=str(tmp_path / "out")).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()  # the Environment's packages on top of the engine's
    lock = yaml.safe_load((tmp_path / "with-six.conda-lock.yml").read_text())
    spec = json.loads(lock["metadata"]["custom_metadata"]["pytest-modelarts.spec"])
    assert spec["engine"] == [PYTORCH.engine_id]
    assert spec["pip_packages"] == ["torch==1.8.0", "six==1.16.0"] and spec["conda_packages"] == ["python=3.7"]
    assert {p["name"]: p["version"] for p in lock["package"]}["torch"] == "1.8.0"


def test_an_environment_that_pins_another_framework_is_refused_before_anything_runs(session: Session, tmp_path: Path) -> None:
    env = Environment("other-torch", conda=CondaDependencies.create(pip_packages=["torch==2.0.0"]))
    estimator = Estimator(modelarts_session=session, code_dir=str(_code(tmp_path)), boot_file="train.py",
                          framework_type="PyTorch", environment=env, train_instance_type="local", train_instance_count=1)
    with pytest.raises(ConfigurationError, match=r"lists 'torch==2.0.0' but the engine .* has torch==1.8.0"):
        estimator.fit(wait=True)
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").rglob("train.py"))


def test_an_environment_that_pins_another_python_is_refused(session: Session, tmp_path: Path) -> None:
    env = Environment("py311", conda=CondaDependencies.create(conda_packages=["python=3.11"]))
    estimator = Estimator(modelarts_session=session, code_dir=str(_code(tmp_path)), boot_file="train.py",
                          framework_type="PyTorch", environment=env, train_instance_type="local", train_instance_count=1)
    with pytest.raises(ConfigurationError, match=r"pins 'python=3.11' but the engine .* runs Python 3.7"):
        estimator.fit(wait=True)


def test_the_promoted_body_carries_the_engine_of_the_smoke_run(use_engine_index: Path, modelarts_emulator,
                                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, data = _code(tmp_path), tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("1\n")
    session = modelarts_emulator.session(python_source="local", cache_dir=tmp_path / "cache")
    local = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", framework_type="pytorch",
                      train_instance_type="local", train_instance_count=1, output_path=str(tmp_path / "out"))
    smoke_job = local.fit(inputs=str(data), wait=True)
    assert smoke_job.phase is JobPhase.COMPLETED, smoke_job.logs()
    smoke = SmokeRun(contract="v2", labels=(), code_hash=None, env_hash=smoke_job.runtime.env_hash, engine=PYTORCH.engine_id)
    online = local.config.evolve(train_instance_type="modelarts.vm.cpu.2u", output_path="obs://emulator-bucket/out/")
    record = promote(online.fit(inputs=str(data), job_name="engine-job"), session, ledger=Ledger(tmp_path / "ledger.json"),
                     lock_hash=None, smoke=smoke, wait=True)
    (document,) = modelarts_emulator.jobs()
    # the catalog's names, whatever case the job gave
    assert document["algorithm"]["engine"] == {"engine_name": PYTORCH.name, "engine_version": PYTORCH.version}
    # and the emulated online job ran on that engine too
    assert record.phase == "Completed"
    seen = json.loads((Path(modelarts_emulator.obs_root) / "emulator-bucket" / "out" / "seen.json").read_text())
    assert (seen["torch"], seen["python"], seen["uid"]) == ("1.8.0", "3.7", 1102)


def test_promotion_refuses_an_online_engine_other_than_the_smoke_runs(modelarts_emulator, tmp_path: Path) -> None:
    session = modelarts_emulator.session()
    tensorflow = engines.find("TensorFlow", None)
    online = Estimator(modelarts_session=session, code_dir=str(_code(tmp_path)), boot_file="train.py",
                       framework_type=tensorflow.name, train_instance_type="modelarts.vm.cpu.2u", train_instance_count=1,
                       output_path="obs://emulator-bucket/out/").config.fit(inputs="obs://emulator-bucket/data/", job_name="tf")
    smoke = SmokeRun(contract="v2", labels=(), code_hash=None, env_hash=None, engine=PYTORCH.engine_id)
    with pytest.raises(ConfigurationError, match=rf"engine: the smoke run ran on {PYTORCH.engine_id}, the online job "
                                                 rf"would run on {tensorflow.engine_id}"):
        promote(online, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash=None, smoke=smoke)
    assert modelarts_emulator.create_requests == 0
