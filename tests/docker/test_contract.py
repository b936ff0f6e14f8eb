"""Custom-image and boot-file jobs in real containers: paths, variables, command, logs, ownership, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_modelarts import BackendError, ConfigurationError, ContainerOptions, Estimator, JobPhase, Session
from pytest_modelarts.backends.docker import backend as dk_backend
from pytest_modelarts.backends.docker import files as dk_files
from pytest_modelarts.core.commands import host_gpus
from pytest_modelarts.core.plan import JOB_SITE
from tests.support.requirements import missing
from tests.support.waiting import wait_until

from ..support.images import MA_USER_UID, OTHER_UID
from .conftest import CODE, labelled

pytestmark = pytest.mark.docker
MA = "/home/ma-user/modelarts"


def test_custom_image_job_follows_the_contract_and_outputs_belong_to_the_chosen_user(
    session: Session, tmp_path: Path, ma_user_image: str, docker_client, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(dk_files.OWNER_VARIABLE, f"{OTHER_UID}:{OTHER_UID}")
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n")
    est = Estimator(
        modelarts_session=session, code_dir=CODE, user_image_url=ma_user_image, train_instance_type="local",
        train_instance_count=1, output_path=tmp_path / "out",
        user_command="python ${MA_JOB_DIR}/code/probe.py --extra=1",
        hyperparameters=[{"label": "lr", "value": "0.1"}, {"label": "epochs", "value": "3"}],
        container_options=ContainerOptions(cpus=0.5, memory="256m"),
    )
    job = est.fit(inputs=data, wait=True, job_name="contract-probe")
    assert job.backend == "docker" and job.phase is JobPhase.COMPLETED
    out = tmp_path / "out"
    probe = json.loads((out / "probe.json").read_text())
    env = probe["env"]
    # the documented command, not through a shell, variables substituted, the platform's arguments appended to
    # it; hyperparameters are also variables; run in /home/ma-user
    assert probe["argv"] == [f"{MA}/user-job-dir/code/probe.py", "--extra=1", f"--data_url={MA}/inputs/data_url_0",
                             f"--train_url={MA}/outputs/train_url_0", "--lr=0.1", "--epochs=3"]
    assert env["lr"] == "0.1" and env["epochs"] == "3"
    assert probe["cwd"] == "/home/ma-user"
    assert probe["uid"] == MA_USER_UID  # the image's user
    assert env["MA_HOME"] == env["HOME"] == "/home/ma-user"
    assert env["MA_MOUNT_PATH"] == MA and env["MA_JOB_DIR"] == f"{MA}/user-job-dir" and env["MA_LOG_DIR"] == f"{MA}/log"
    assert not [name for name in env if name.startswith(("DLS_", "BATCH_"))]  # v2 exact
    assert env["WORKSPACE"] == f"{MA}/user-job-dir/code"
    assert probe["code_files"] == sorted(p.name for p in CODE.iterdir() if p.name != "__pycache__")
    assert probe["inputs"] == ["train.csv"]
    vj = env["MA_VJ_NAME"]
    assert vj == f"modelarts-job-{job.job_id}"
    assert env["VC_WORKER_HOSTS"] == f"{vj}-worker-0.{vj}" and env["VC_TASK_INDEX"] == "0"
    assert env["MA_NUM_HOSTS"] == env["VC_WORKER_NUM"] == "1" and env["MA_TASK_NAME"] == "worker"
    assert probe["hostname"] == f"{vj}-worker-0"
    assert probe["fqdn_resolves_to"] == env["MA_CURRENT_IP"]
    # the image's own PATH and PYTHONPATH (it has none): the contract sets neither for a custom image
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin" and "PYTHONPATH" not in env
    assert probe["cache_writable"]
    # limits reached the container (cgroup v2 or v1 notation)
    assert probe["cpu_quota"] in ("50000 100000", "50000")
    assert probe["memory_limit"] == str(256 * 1024**2)
    # written by uid 1000 in the container, owned by the chosen uid on the host, in output_path and sandbox
    for path in [out / "probe.json", out / "sub", out / "sub" / "model.bin", out]:
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (OTHER_UID, OTHER_UID), path
    assert (job.sandbox / "home/modelarts/outputs/train_url_0/probe.json").stat().st_uid == OTHER_UID
    # logs went to the job's log; nothing of the job is left in Docker
    assert "probe done" in job.logs()
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_outputs_of_a_root_job_belong_to_the_invoking_user(
    session: Session, tmp_path: Path, python_image: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(dk_files.OWNER_VARIABLE, raising=False)
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image,
                    user_command="python ${MA_JOB_DIR}/code/probe.py", train_instance_type="local",
                    train_instance_count=1, output_path=tmp_path / "out",
                    container_options=ContainerOptions(user="root")).fit(wait=True)
    probe = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert probe["uid"] == 0
    for path in (tmp_path / "out").rglob("*"):
        assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), os.getgid())
    assert job.phase is JobPhase.COMPLETED


def test_boot_file_job_in_docker_gets_hyperparameters_as_arguments(
    session: Session, tmp_path: Path, python_image: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(dk_backend.IMAGE_VARIABLE, python_image)
    job = Estimator(modelarts_session=session, code_dir=CODE, boot_file="probe.py", backend="docker",
                    train_instance_type="local", train_instance_count=1, output_path=tmp_path / "out",
                    hyperparameters=[{"label": "lr", "value": "0.1"}]).fit(wait=True)
    probe = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert probe["uid"] == 1000 and probe["gid"] == 100  # ma-user, as ModelArts runs an image, unless told otherwise
    assert probe["argv"] == [f"{MA}/user-job-dir/code/probe.py", f"--data_url={MA}/inputs/data_url_0",
                             f"--train_url={MA}/outputs/train_url_0", "--lr=0.1"]
    assert "lr" not in probe["env"]
    assert probe["cwd"] == f"{MA}/user-job-dir"
    # PATH is the image's, after a preset image's ${MA_HOME}/anaconda/bin; PYTHONPATH the job dir, moxing, then the image's (none here)
    assert probe["env"]["PATH"] == "/home/ma-user/anaconda/bin:/usr/local/bin:/usr/bin:/bin" and probe["env"]["PYTHONPATH"] == f"{MA}/user-job-dir:{JOB_SITE}"
    assert job.command[0] == "python"


def test_shell_commands_run_in_the_image_shell(session: Session, tmp_path: Path, python_image: str) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, output_path=tmp_path / "out",
                    user_command='echo "from sh" > $MA_MOUNT_PATH/outputs/train_url_0/sh.txt && echo done').fit(wait=True)
    assert (tmp_path / "out" / "sh.txt").read_text() == "from sh\n"
    arguments = f"--data_url={MA}/inputs/data_url_0 --train_url={MA}/outputs/train_url_0"
    assert job.command == ["/bin/sh", "-c", 'echo "from sh" > $MA_MOUNT_PATH/outputs/train_url_0/sh.txt && echo done ' + arguments]
    assert f"done {arguments}" in job.logs()  # the platform's arguments went to the last command


def test_failure_reports_exit_code_and_log_tail(session: Session, tmp_path: Path, python_image: str) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1,
                    user_command="python -c \"import sys; print('bad things'); sys.exit(7)\"").fit(wait=False)
    assert job.wait() is JobPhase.FAILED and job.exit_code == 7
    with pytest.raises(Exception, match=r"exit code 7(.|\n)*bad things"):
        job.raise_for_status()


def test_logs_stream_live(session: Session, tmp_path: Path, python_image: str) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=wait_for_go").fit()
    with job:
        wait_until(lambda: "first line" in job.logs(), 60, "the first log line")
        assert job.phase is JobPhase.RUNNING  # the job is still waiting: the line came while it ran
        (job.sandbox / "home/modelarts/inputs/data_url_0/go").touch()
        assert job.wait(timeout=60) is JobPhase.COMPLETED
    assert "got go" in job.logs()


def test_absent_image_is_a_clear_error(session: Session, tmp_path: Path, docker_client) -> None:
    image = "localhost:1/pytest-modelarts/absent:1.0"  # a registry on a closed loopback port: the pull fails
    est = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=image, train_instance_type="local",
                    train_instance_count=1, user_command="python x.py")
    with pytest.raises(BackendError, match=r"image 'localhost:1/pytest-modelarts/absent:1.0' is not present locally and could not be pulled.*docker build -t"):
        est.fit()


def test_boot_file_job_without_an_image_says_how_to_give_one(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dk_backend.IMAGE_VARIABLE, raising=False)
    est = Estimator(modelarts_session=session, code_dir=CODE, boot_file="probe.py", backend="docker",
                    train_instance_type="local", train_instance_count=1)
    with pytest.raises(ConfigurationError, match=dk_backend.IMAGE_VARIABLE):
        est.fit()


def test_gpus_are_refused_on_a_host_without_gpus(session: Session, python_image: str) -> None:
    if host_gpus():
        pytest.skip("this host has GPUs")
    est = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command="python x.py", container_options=ContainerOptions(gpus=1))
    with pytest.raises(ConfigurationError, match="no NVIDIA GPU"):
        est.fit()


def test_gpus_are_passed_through(session: Session, tmp_path: Path, python_image: str) -> None:
    if not host_gpus():
        missing("gpu", "this host has no NVIDIA GPU (/dev/nvidia*): GPU requests cannot be exercised here")
    Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
              train_instance_count=1, output_path=tmp_path / "out", user_command="python ${MA_JOB_DIR}/code/probe.py",
              container_options=ContainerOptions(gpus=1)).fit(wait=True)
    assert json.loads((tmp_path / "out" / "probe.json").read_text())["env"]["MA_NUM_GPUS"] == "1"
