"""Multi-node jobs as containers on a private network named after the contract's host names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session

from .conftest import CODE, MULTINODE_CODE, labelled

pytestmark = pytest.mark.docker


def rendezvous(session: Session, tmp_path: Path, image: str, **hyper: str) -> Estimator:
    params = [{"label": "port", "value": "29500"}] + [{"label": k, "value": v} for k, v in hyper.items()]
    return Estimator(modelarts_session=session, code_dir=MULTINODE_CODE, user_image_url=image, train_instance_type="local",
                     train_instance_count=3, output_path=tmp_path / "out", hyperparameters=params,
                     user_command="python ${MA_JOB_DIR}/code/rendezvous.py")


def test_three_containers_rendezvous_through_the_first_host(session: Session, tmp_path: Path, ma_user_image: str, docker_client) -> None:
    job = rendezvous(session, tmp_path, ma_user_image).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    out = tmp_path / "out"
    assert (out / "rendezvous.txt").read_text() == "1,2\n"
    assert (out / "worker-1.txt").exists() and (out / "worker-2.txt").exists()
    vj = f"modelarts-job-{job.job_id}"
    assert f"master {vj}-worker-0.{vj}:29500" in job.logs(0)
    assert len(job.get_job_log_file_list()) == 3
    assert "master: all workers met" in job.logs(0)
    for i in (1, 2):
        assert f"worker {i}: met the master" in job.logs(i)
        assert "master: all" not in job.logs(i)  # logs are kept per worker
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_a_failing_container_fails_the_job_and_stops_the_others(session: Session, tmp_path: Path, python_image: str, docker_client) -> None:
    job = rendezvous(session, tmp_path, python_image, fail_worker="1").fit()
    assert job.wait() is JobPhase.FAILED
    assert job.exit_code == 3
    assert job.failure_reason == "worker 1 exited with 3"
    assert "failing on purpose" in job.logs(1)
    assert "worker 2: connecting" in job.logs(2) and "met the master" not in job.logs(2)
    assert docker_client.containers.list(filters={"label": f"pytest-modelarts.job-id={job.job_id}"}) == []
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_each_container_has_its_own_outputs_and_conflicts_are_reported(session: Session, tmp_path: Path,
                                                                       python_image: str, docker_client) -> None:
    out = tmp_path / "out"
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=2, output_path=out,
                    user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=same_output").fit(wait=True)
    assert (out / "model.pkl").read_text() == "weights of worker 0"
    assert job.get_job_info()["output_conflicts"] == ["model.pkl (workers 0, 1)"]
    assert labelled(docker_client, job.job_id) == (0, 0)
