"""Stop, timeout, Ctrl-C and the death of the parent leave no process of the job behind.

The boot file forks children that ignore SIGTERM, and a grandchild that double-forks into a session of its
own (a daemon): each test finds the job's processes by a unique tag on their command line and counts them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, JobTimeoutError, Session
from tests.support.processes import tagged
from tests.support.waiting import wait_until

STUBBORN = textwrap.dedent("""
    import os, signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for _ in range(2):
        if os.fork() == 0:                    # children that ignore SIGTERM
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(600)
            os._exit(0)
    if os.fork() == 0:                        # a daemon: double fork + setsid escapes the process group
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    print("all started", flush=True)
    time.sleep(int(os.environ.get("STUBBORN_SLEEP", "600")))
""")


@pytest.fixture
def stubborn(tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(STUBBORN)
    tag = f"orphan-tag-{uuid.uuid4().hex}"
    return code, tag


def start(session: Session, code: Path, tag: str):
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, hyperparameters=[{"label": "tag", "value": tag}])
    return est.fit(wait=False)


def test_stop_ends_the_job_and_every_descendant(sdk_session, stubborn):
    code, tag = stubborn
    job = start(sdk_session, code, tag)
    wait_until(lambda: "all started" in job.logs(), what="the job's children")
    assert len(wait_until(lambda: len(tagged(tag)) >= 4 and tagged(tag), what="4 processes")) >= 4
    job.stop()
    assert job.phase is JobPhase.TERMINATED
    assert tagged(tag) == []


def test_timeout_stops_the_job(sdk_session, stubborn):
    code, tag = stubborn
    job = start(sdk_session, code, tag)
    wait_until(lambda: "all started" in job.logs(), what="the job's children")
    with pytest.raises(JobTimeoutError) as excinfo:
        job.wait(timeout=0.5)
    assert "all started" in str(excinfo.value)
    assert job.phase is JobPhase.TERMINATED
    assert tagged(tag) == []


def test_a_job_that_ends_takes_its_leftovers_with_it(sdk_session, stubborn):
    """When the main process exits, what it left running dies too, as at the end of a container."""
    code, tag = stubborn
    (code / "train.py").write_text(STUBBORN.replace('int(os.environ.get("STUBBORN_SLEEP", "600"))', "0.5"))
    est = Estimator(modelarts_session=sdk_session, code_dir=str(code), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1,
                    hyperparameters=[{"label": "tag", "value": tag}])
    job = est.fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    assert tagged(tag) == []


PARENT = textwrap.dedent("""
    import sys
    from pytest_modelarts import Estimator, Session
    session = Session(local_root=sys.argv[1], stream_logs=False, stop_grace_period=1)
    est = Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="train.py",
                    train_instance_type="local", train_instance_count=1,
                    hyperparameters=[{"label": "tag", "value": sys.argv[3]}])
    job = est.fit(wait=False)
    print("sandbox", job.sandbox, flush=True)
    try:
        job.wait()
    except KeyboardInterrupt:
        print("interrupted; phase", job.phase.value, flush=True)
        raise
""")


def run_parent(tmp_path: Path, code: Path, tag: str) -> subprocess.Popen[str]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "runs"), str(code), tag],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def started(parent: subprocess.Popen[str]) -> Path:
    """The sandbox of the parent's job, once the job's children all run (its log says so)."""
    assert parent.stdout is not None
    sandbox = Path(parent.stdout.readline().split()[1])
    wait_until(lambda: any("all started" in log.read_text() for log in (sandbox / "home" / "modelarts" / "log").glob("*.log")),
               what="the job's children")
    return sandbox


def test_ctrl_c_stops_the_job_and_is_not_success(tmp_path, stubborn):
    code, tag = stubborn
    parent = run_parent(tmp_path, code, tag)
    started(parent)
    assert len(tagged(tag)) >= 4
    parent.send_signal(signal.SIGINT)
    rest, _ = parent.communicate(timeout=60)
    out = "sandbox ...\n" + rest
    assert parent.returncode != 0
    assert "interrupted; phase Terminated" in out and "KeyboardInterrupt" in out
    assert tagged(tag) == []


def test_death_of_the_parent_ends_the_job(tmp_path, stubborn):
    code, tag = stubborn
    parent = run_parent(tmp_path, code, tag)
    sandbox = started(parent)
    assert len(tagged(tag)) >= 4
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: tagged(tag) == [], what="the job to be cleaned up after its parent died")
    # nothing is lost: the log of the interrupted run is still there
    logs = list((sandbox / "home" / "modelarts" / "log").glob("*.log"))
    assert logs and "all started" in logs[0].read_text()
