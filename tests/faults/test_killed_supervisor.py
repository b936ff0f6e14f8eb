"""A killed supervisor takes its boot file with it (PR_SET_PDEATHSIG), with and without the sandbox."""

from __future__ import annotations

import signal
import uuid

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from tests.support.processes import supervisors_of, tagged
from tests.support.waiting import wait_until


@pytest.mark.parametrize("sandbox", [False, None], ids=["unsandboxed", "default"])
def test_a_killed_supervisor_leaves_no_boot_file_running(tmp_path, sandbox):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n")
    tag = f"pdeath-tag-{uuid.uuid4().hex}"
    session = Session(local_root=tmp_path / "runs", stream_logs=False, stop_grace_period=1.0, sandbox=sandbox)
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, hyperparameters=[{"label": "tag", "value": tag}])
    job = est.fit(wait=False)
    try:
        wait_until(lambda: "sleeping" in job.logs(), what="the boot file to start")
        procs = tagged(tag)
        supervisors = supervisors_of(procs)
        boots = [p for p in procs if any(part.endswith("train.py") for part in p.cmdline())]
        assert supervisors and boots, [p.cmdline() for p in procs]
        for proc in supervisors:
            proc.send_signal(signal.SIGKILL)
        wait_until(lambda: not any(b.is_running() and b.status() != "zombie" for b in boots), 30,
                   what="the boot file to die with its supervisor")
        assert wait_until(lambda: job.phase.is_final, 30, what="a final phase") and job.phase is not JobPhase.COMPLETED
    finally:
        job.stop()
    assert tagged(tag) == []
