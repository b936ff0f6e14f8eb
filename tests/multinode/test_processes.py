"""Multi-node jobs as local processes: N supervised workers with the contract's variables, fail-fast."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from pytest_modelarts import Estimator, JobFailedError, JobPhase, Session

from .conftest import CODE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_of(sandbox: Path) -> list[psutil.Process]:
    """Processes whose command line mentions the job's sandbox (its supervisors and boot files)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(str(sandbox) in arg for arg in proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def rendezvous(session: Session, tmp_path: Path, count: int, **hyper: str) -> Estimator:
    params = [{"label": "port", "value": str(free_port())}] + [{"label": k, "value": v} for k, v in hyper.items()]
    return Estimator(modelarts_session=session, code_dir=CODE, boot_file="rendezvous.py", train_instance_type="local",
                     train_instance_count=count, output_path=tmp_path / "out", hyperparameters=params)


def test_three_workers_rendezvous_over_tcp_through_the_first_host(session: Session, tmp_path: Path) -> None:
    job = rendezvous(session, tmp_path, 3).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    out = tmp_path / "out"
    assert (out / "rendezvous.txt").read_text() == "1,2\n"
    assert (out / "worker-1.txt").exists() and (out / "worker-2.txt").exists()
    # one log per worker, each with its own lines
    assert len(job.get_job_log_file_list()) == 3
    assert "master: all workers met" in job.logs(0)
    for i in (1, 2):
        assert f"worker {i}: met the master" in job.logs(i)
        assert f"me 10.200.0.{i + 2}" in job.logs(i)  # a node of its own, on the job's private network
    assert not processes_of(job.sandbox)


def test_a_failing_worker_fails_the_job_and_stops_the_others(session: Session, tmp_path: Path) -> None:
    job = rendezvous(session, tmp_path, 3, fail_worker="1").fit()
    assert job.wait() is JobPhase.FAILED
    assert job.exit_code == 3
    assert job.failure_reason == "worker 1 exited with 3"
    assert not processes_of(job.sandbox)
    assert "failing on purpose" in job.logs(1)
    # the others were running, waiting for worker 1, and were stopped
    assert "worker 2: connecting" in job.logs(2) and "met the master" not in job.logs(2)
    assert "all workers met" not in job.logs(0)
    with pytest.raises(JobFailedError, match="worker 1 exited with 3"):
        job.raise_for_status()


def test_the_failing_worker_of_a_three_worker_job_comes_from_the_execution(session: Session, tmp_path: Path) -> None:
    job = rendezvous(session, tmp_path, 3, fail_worker="2").fit()
    assert job.wait() is JobPhase.FAILED
    assert job.failed_worker == 2
    with pytest.raises(JobFailedError) as excinfo:
        job.raise_for_status()
    err = excinfo.value
    assert (err.failed_worker, err.exit_code) == (2, 3)
    assert err.cause == "worker 2: failing on purpose (worker 2)"  # its last line: it raised nothing
    assert err.log_tail[-1] == "worker 2: failing on purpose"  # the failing worker's tail, not worker 0's
    assert not any(line.startswith("worker 0 of 3") for line in err.log_tail)
    assert err.logs == job.log_locations() and len(err.logs) == 3


def test_a_completed_or_stopped_job_has_no_failed_worker(session: Session, tmp_path: Path) -> None:
    assert rendezvous(session, tmp_path, 2).fit(wait=True).failed_worker is None
    code = tmp_path / "sleeps"
    code.mkdir()
    (code / "sleep.py").write_text("import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    job = Estimator(modelarts_session=session, code_dir=code, boot_file="sleep.py", train_instance_type="local",
                    train_instance_count=2).fit()
    job.stop()
    assert job.phase is JobPhase.TERMINATED and job.failed_worker is None
