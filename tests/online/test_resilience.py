"""Transient errors are retried (bounded); permanent ones fail fast; nothing is created twice."""

from __future__ import annotations

import pytest

from pytest_modelarts import Estimator, JobPhase, OnlineError
from pytest_modelarts.promotion import Ledger, promote

from .conftest import FLAVOR


def online_config(session, code, data, name):
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=FLAVOR,
                    framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/")

    return est.config.fit(inputs=str(data), job_name=name)


def test_thirty_percent_faults_still_promote_exactly_one_job_per_configuration(modelarts_emulator, online_code, online_data, tmp_path):
    modelarts_emulator.inject(0.3, ("500", "502", "503", "429", "drop", "drop_after", "500_after"))
    session = modelarts_emulator.session()
    ledger = Ledger(tmp_path / "ledger.json")
    first = promote(online_config(session, online_code, online_data, "faulty-a"), session, ledger=ledger, lock_hash=None, wait=True)
    other = online_code.parent / "code2"
    other.mkdir()
    (other / "train.py").write_text((online_code / "train.py").read_text() + "# another configuration\n")
    second = promote(online_config(session, other, online_data, "faulty-b"), session, ledger=ledger, lock_hash=None, wait=True)
    again = promote(online_config(session, online_code, online_data, "faulty-a"), session, ledger=ledger, lock_hash=None)
    assert (first.phase, second.phase) == ("Completed", "Completed")
    assert again.created is False and again.job_id == first.job_id
    names = sorted(j["metadata"]["name"] for j in modelarts_emulator.jobs())
    assert names == ["faulty-a", "faulty-b"]
    assert modelarts_emulator.injected  # faults really happened


def test_an_ambiguous_create_adopts_the_job_instead_of_creating_another(modelarts_emulator, online_code, online_data):
    modelarts_emulator.inject(1.0, "drop_after", methods="POST", path_contains="/training-jobs", count=2)
    est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir=str(online_code), boot_file="train.py",
                    train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    job = est.fit(inputs=str(online_data), job_name="ambiguous", wait=True)
    assert job.phase is JobPhase.COMPLETED
    assert modelarts_emulator.create_requests == 1
    assert len(modelarts_emulator.jobs()) == 1


def test_slow_answers_time_out_and_are_retried(modelarts_emulator, online_code, online_data, monkeypatch):
    monkeypatch.setenv("PYTEST_MODELARTS_HTTP_TIMEOUT", "1")
    modelarts_emulator.inject(1.0, "slow", methods="GET", services="modelarts", count=2, delay=2.0)
    modelarts_emulator.inject(1.0, "slow", methods="POST", services="modelarts", path_contains="/training-jobs", count=1, delay=2.0)
    est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir=str(online_code), boot_file="train.py",
                    train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    job = est.fit(inputs=str(online_data), job_name="slow", wait=True)
    assert job.phase is JobPhase.COMPLETED
    assert len(modelarts_emulator.jobs()) == 1


def test_persistent_server_errors_give_up_after_a_bounded_number_of_attempts(modelarts_emulator, online_code, monkeypatch):
    monkeypatch.setenv("PYTEST_MODELARTS_RETRIES", "3")
    modelarts_emulator.inject(1.0, "503", services="modelarts")
    est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir="obs://emulator-bucket/code/", boot_file="train.py",
                    train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(OnlineError, match="after 3 attempts.*503") as info:
        est.fit(inputs="obs://emulator-bucket/data/", job_name="down")
    assert info.value.status == 503
    assert modelarts_emulator.create_requests == 0


def test_a_client_error_fails_fast_with_the_service_message(modelarts_emulator, online_code):
    session = modelarts_emulator.session(project_id="someone-elses-project")
    est = Estimator(modelarts_session=session, code_dir="obs://emulator-bucket/code/", boot_file="train.py",
                    train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(OnlineError, match="HTTP 403 ModelArts.0103: project someone-elses-project does not match"):
        est.fit(inputs="obs://emulator-bucket/data/", job_name="elsewhere")
    assert modelarts_emulator.emulator.requests["modelarts"] == 1
