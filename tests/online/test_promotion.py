"""promote(): one online job per configuration, remembered in the ledger."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from pytest_modelarts import ConfigurationError, Estimator
from pytest_modelarts.core.codetree import CodeTree
from pytest_modelarts.promotion import Ledger, PromotionRecord, promote, promotion_key

from .conftest import FLAVOR, MULTI_NODE_FLAVOR, PYTORCH


def config_for(session, code, data, name="promo", instance_type=FLAVOR, **kw):
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=instance_type, framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/" if instance_type != "local" else None, **kw)
    return est.config.fit(inputs=str(data), job_name=name)


def test_promote_submits_once_and_a_rerun_submits_nothing(modelarts_emulator, online_code, online_data, tmp_path):
    session = modelarts_emulator.session()
    config = config_for(session, online_code, online_data)
    rec = promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash="abc", wait=True)
    assert rec.created and rec.phase == "Completed" and rec.job_name == "promo"
    assert rec.job_id == modelarts_emulator.jobs()[0]["metadata"]["id"]
    # a new process (new Ledger object), a new job name: same configuration, nothing submitted
    again = promote(config.evolve(job_name="promo-rerun"), session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash="abc")
    assert again == replace(rec, created=False)
    assert len(modelarts_emulator.jobs()) == 1
    forced = promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash="abc", force=True)
    assert forced.created and forced.job_id != rec.job_id
    assert len(modelarts_emulator.jobs()) == 2
    assert Ledger(tmp_path / "ledger.json").lookup(rec.key).job_id == forced.job_id


def test_a_ledger_hit_can_wait_for_a_job_still_running(modelarts_emulator, online_code, online_data, tmp_path):
    session = modelarts_emulator.session()
    config = config_for(session, online_code, online_data)
    ledger = Ledger(tmp_path / "ledger.json")
    rec = promote(config, session, ledger=ledger, lock_hash=None)
    assert rec.created
    later = promote(config, session, ledger=ledger, lock_hash=None, wait=True)
    assert (later.created, later.phase, later.job_id) == (False, "Completed", rec.job_id)
    assert ledger.lookup(rec.key).phase == "Completed"


def test_the_key_follows_content_lock_and_configuration_not_paths(online_code, online_data, tmp_path, sdk_session):
    base = config_for(sdk_session, online_code, online_data, instance_type="local")
    online = base.evolve(train_instance_type=MULTI_NODE_FLAVOR, output_path="obs://b/out/")  # up to 16 nodes
    key = promotion_key(online, "lock1", CodeTree(online_code).digest())
    copy = tmp_path / "elsewhere" / "code"
    shutil.copytree(online_code, copy)
    moved = online.evolve(code_dir=str(copy), job_name="other-name")
    assert promotion_key(moved, "lock1", CodeTree(copy).digest()) == key
    assert promotion_key(online, "lock2", CodeTree(online_code).digest()) != key
    assert promotion_key(online.evolve(train_instance_count=2), "lock1", CodeTree(online_code).digest()) != key
    (copy / "train.py").write_text("print('changed')\n")
    assert CodeTree(copy).digest() != CodeTree(online_code).digest()
    (online_data / "more.csv").write_text("3,4\n")
    assert promotion_key(online, "lock1", CodeTree(online_code).digest()) != key


def test_promoting_a_local_configuration_is_a_configuration_error(online_code, online_data, tmp_path, sdk_session):
    config = config_for(sdk_session, online_code, online_data, instance_type="local")
    with pytest.raises(ConfigurationError, match="needs an online configuration"):
        promote(config, sdk_session, ledger=Ledger(tmp_path / "l.json"), lock_hash=None)


def test_ledger_round_trip_and_forget(tmp_path):
    ledger = Ledger(tmp_path / "sub" / "ledger.json")
    rec = PromotionRecord(key="k" * 64, job_id="j", job_name="n", phase="Running", created=True, submitted_at=1.0)
    ledger.record(rec)
    assert ledger.lookup("k" * 64) == replace(rec, created=False)
    ledger.forget("k" * 64)
    assert ledger.lookup("k" * 64) is None


def test_promotion_refuses_what_the_smoke_run_did_not_test_and_submits_nothing(modelarts_emulator, online_code, online_data, tmp_path):
    from pytest_modelarts.promotion import SmokeRun

    session = modelarts_emulator.session()
    config = config_for(session, online_code, online_data,
                        hyperparameters=[{"label": "epochs", "value": "30"}])
    code_hash = CodeTree(online_code).digest()
    same = SmokeRun(contract="v2", labels=("epochs",), code_hash=code_hash, env_hash="lock-a", engine=PYTORCH)
    assert same.differences(config, code_hash=code_hash, env_hash="lock-a") == []
    cases = {
        "contract: the smoke run reproduced v1 (old-version) jobs": SmokeRun("v1", ("epochs",), code_hash, "lock-a", engine=PYTORCH),
        "hyperparameters: the smoke run gave --max_samples, which the online job will not get":
            SmokeRun("v2", ("epochs", "max_samples"), code_hash, "lock-a", engine=PYTORCH),
        "code: the code directory changed after the smoke run passed": SmokeRun("v2", ("epochs",), "0" * 64, "lock-a", engine=PYTORCH),
        "environment: the smoke run used the lock lock-b": SmokeRun("v2", ("epochs",), code_hash, "lock-b", engine=PYTORCH),
        "engine: the smoke run ran on no preset engine": SmokeRun("v2", ("epochs",), code_hash, "lock-a"),
    }
    for reason, smoke in cases.items():
        with pytest.raises(ConfigurationError, match=r"(?s)promotion of 'promo' refused: the online job would differ.*"
                                                     + reason.replace("(", r"\(").replace(")", r"\)")):
            promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash="lock-a", smoke=smoke,
                    online_env_hash="lock-a")
    assert modelarts_emulator.jobs() == [] and not (tmp_path / "ledger.json").exists()
    rec = promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash="lock-a", smoke=same,
                  online_env_hash="lock-a")
    assert rec.smoke == same.to_dict() and Ledger(tmp_path / "ledger.json").lookup(rec.key).smoke == same.to_dict()
