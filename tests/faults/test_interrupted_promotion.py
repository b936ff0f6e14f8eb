"""A promotion whose process dies while its create request is in flight: the rerun creates no second job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, Session
from pytest_modelarts.promotion import Ledger, promote

from ..support.waiting import wait_until

FLAVOR = "modelarts.vm.cpu.2u"

SCRIPT = textwrap.dedent("""\
    import sys
    from pytest_modelarts import Estimator, Session
    from pytest_modelarts.promotion import Ledger, promote
    code, data, ledger = sys.argv[1:4]
    session = Session(stream_logs=False)
    est = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", train_instance_type="%s",
                    framework_type="PyTorch", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    promote(est.config.fit(inputs=data, job_name="interrupted"), session, ledger=Ledger(ledger), lock_hash=None)
""" % FLAVOR)


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    code, data = tmp_path / "code", tmp_path / "data"
    code.mkdir()
    data.mkdir()
    (code / "train.py").write_text("print('ok')\n")
    (data / "a.csv").write_text("1\n")
    return code, data


def _estimator(session: Session, code: Path) -> Estimator:
    """The estimator SCRIPT builds, in this process."""
    return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=FLAVOR, framework_type="PyTorch",
                     train_instance_count=1, output_path="obs://emulator-bucket/out/")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_promotion_killed_during_its_create_request_is_adopted_by_the_rerun(modelarts_emulator, tmp_path, monkeypatch, signum):
    monkeypatch.setenv("PYTEST_MODELARTS_HTTP_TIMEOUT", "30")
    code, data = _tree(tmp_path)
    ledger_path = tmp_path / "ledger.json"
    # the service creates the job, then answers only 8 s later: the process dies before it knows the job's id
    modelarts_emulator.inject(1.0, "slow", methods="POST", services="modelarts", path_contains="/training-jobs", count=1, delay=8.0)
    env = {**os.environ, **modelarts_emulator.env(), "PYTEST_MODELARTS_ROOT": str(tmp_path / "root")}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(code), str(data), str(ledger_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: modelarts_emulator.create_requests >= 1 or proc.poll() is not None, 60, "the create request")
        assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")
        proc.send_signal(signum)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = json.loads(ledger_path.read_text())["records"]
    assert [r["phase"] for r in records.values()] == ["Submitting"]  # the pending record was written before the request
    modelarts_emulator.clear_faults()
    session = modelarts_emulator.session()
    est = _estimator(session, code)
    rec = promote(est.config.fit(inputs=str(data), job_name="rerun"), session, ledger=Ledger(ledger_path), lock_hash=None)
    jobs = modelarts_emulator.jobs()
    assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
    assert (rec.created, rec.job_id, rec.job_name) == (False, jobs[0]["metadata"]["id"], "interrupted")
    assert Ledger(ledger_path).lookup(rec.key).job_id == rec.job_id


def test_a_pending_record_whose_job_never_reached_the_service_is_submitted_again(modelarts_emulator, tmp_path):
    code, data = _tree(tmp_path)
    session = modelarts_emulator.session()
    est = _estimator(session, code)
    config = est.config.fit(inputs=str(data), job_name="never-sent")
    ledger = Ledger(tmp_path / "ledger.json")
    rec = promote(config, session, ledger=ledger, lock_hash=None)
    assert rec.created and len(modelarts_emulator.jobs()) == 1
    # a pending record under another name, as a process killed before its request left would leave it
    from dataclasses import replace
    # (long ago: its request can no longer create a job, so none is waited for)
    ledger.record(replace(rec, job_id="", phase="Submitting", job_name="lost-before-sending",
                          submitted_at=rec.submitted_at - 3600, answer_by=rec.submitted_at - 3540))
    again = promote(config, session, ledger=ledger, lock_hash=None)
    assert again.created and again.job_id != rec.job_id and len(modelarts_emulator.jobs()) == 2


def test_a_ledger_hit_without_wait_records_the_phase_the_job_has_now(modelarts_emulator, tmp_path):
    code, data = _tree(tmp_path)
    session = modelarts_emulator.session()
    est = _estimator(session, code)
    config = est.config.fit(inputs=str(data), job_name="phase")
    ledger = Ledger(tmp_path / "ledger.json")
    first = promote(config, session, ledger=ledger, lock_hash=None)
    assert not first.is_final
    modelarts_emulator.wait_idle()
    again = promote(config, session, ledger=ledger, lock_hash=None)
    assert (again.created, again.phase) == (False, "Completed")
    assert ledger.lookup(first.key).phase == "Completed"  # not left at Creating


def test_a_promoted_job_that_fails_online_is_marked_failed(modelarts_emulator, tmp_path):
    code, data = _tree(tmp_path)
    (code / "train.py").write_text("import sys\nsys.exit(3)\n")
    session = modelarts_emulator.session()
    est = _estimator(session, code)
    rec = promote(est.config.fit(inputs=str(data), job_name="fails"), session, ledger=Ledger(tmp_path / "l.json"),
                  lock_hash=None, wait=True)
    assert rec.phase == "Failed" and rec.failed  # what the plugin needs to fail the run under --modelarts-promote-wait
    assert not replace_phase(rec, "Completed").failed and not replace_phase(rec, "Running").failed


def replace_phase(rec, phase):
    from dataclasses import replace

    return replace(rec, phase=phase)


def test_a_job_the_service_creates_after_the_reruns_first_lookup_is_adopted(modelarts_emulator, tmp_path):
    """The interrupted request may still be at work in the service when the rerun first looks (a loaded machine):
    the rerun looks again until that request could no longer create a job, and adopts the job when it appears."""
    import threading
    import time
    from dataclasses import replace

    from pytest_modelarts.core.runner import start_job

    code, data = _tree(tmp_path)
    session = modelarts_emulator.session()
    config = _estimator(session, code).config.fit(inputs=str(data), job_name="first")
    ledger = Ledger(tmp_path / "ledger.json")
    first = promote(config, session, ledger=ledger, lock_hash=None)
    now = time.time()
    ledger.record(replace(first, job_id="", phase="Submitting", job_name="late", submitted_at=now, answer_by=now + 60))
    service = modelarts_emulator.emulator
    lookups_before = service.requests["modelarts"]

    def the_interrupted_request_completes() -> None:  # once the rerun has looked and found nothing
        wait_until(lambda: service.requests["modelarts"] > lookups_before, 60, "the rerun's first lookup")
        start_job(config.evolve(job_name="late"), session)

    late = threading.Thread(target=the_interrupted_request_completes)
    late.start()
    try:
        rec = promote(config, session, ledger=ledger, lock_hash=None)
    finally:
        late.join(60)
    names = sorted(j["metadata"]["name"] for j in modelarts_emulator.jobs())
    assert names == ["first", "late"], names  # no third job
    assert (rec.created, rec.job_name) == (False, "late")
