"""What the platform does around the command: the image's own environment, an init as PID 1, the platform's
arguments on the last command (run from /home/ma-user), hyperparameter labels as variable names, and the
requirements file of a boot-file job."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from pytest_modelarts import ConfigurationError, Estimator, JobFailedError, JobPhase, ParameterError, Session
from pytest_modelarts.core.plan import JOB_SITE

from ..support.images import VENV_MARKER, VENV_PATH, VENV_PYTHONPATH
from .conftest import CODE, labelled

pytestmark = pytest.mark.docker
MA = "/home/ma-user/modelarts"


def probe_of(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "probe.json").read_text())  # type: ignore[no-any-return]


# -- 1. the image's environment ------------------------------------------------------------------------------

def test_a_custom_image_runs_its_own_python_with_its_own_path_and_pythonpath(session: Session, tmp_path: Path,
                                                                               venv_image: str) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=venv_image, train_instance_type="local",
                    train_instance_count=1, output_path=tmp_path / "out",
                    user_command="python ${MA_JOB_DIR}/code/probe.py").fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    env = probe_of(tmp_path / "out")["env"]
    assert env.get(VENV_MARKER) == "1", "the job ran /usr/bin/python, not the image's /opt/venv/bin/python"
    assert f"{VENV_MARKER}: /opt/venv/bin/python" in job.logs()
    assert env["PATH"] == VENV_PATH and env["PYTHONPATH"] == VENV_PYTHONPATH  # as the image has them
    assert env["MA_JOB_DIR"] == f"{MA}/user-job-dir"  # and the contract's variables besides


def test_a_boot_file_job_builds_path_and_pythonpath_on_the_image_s(tmp_path: Path, venv_image: str) -> None:
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, docker_image=venv_image)
    Estimator(modelarts_session=session, code_dir=CODE, boot_file="probe.py", backend="docker",
              train_instance_type="local", train_instance_count=1, output_path=tmp_path / "out").fit(wait=True)
    env = probe_of(tmp_path / "out")["env"]
    assert env.get(VENV_MARKER) == "1"
    assert env["PATH"] == f"/home/ma-user/anaconda/bin:{VENV_PATH}"  # a preset image's ${MA_HOME}/anaconda/bin:${PATH}
    # the preset images' ${MA_JOB_DIR}:${PYTHONPATH}, moxing between them
    assert env["PYTHONPATH"] == f"{MA}/user-job-dir:{JOB_SITE}:{VENV_PYTHONPATH}"


# -- 2. the command is not PID 1 ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["python -c 'import os; os.kill(os.getpid(), 9)'", "kill -9 $$; echo not reached"])
def test_a_command_that_sigkills_itself_fails_with_137_and_is_not_called_out_of_memory(
    session: Session, python_image: str, docker_client, command: str,
) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command=command).fit()
    assert job.wait() is JobPhase.FAILED
    assert job.exit_code == 137
    assert "not reached" not in job.logs()
    reason = job.failure_reason
    assert reason is not None and reason.startswith("killed by SIGKILL") and "not out of memory" in reason
    with pytest.raises(JobFailedError, match=r"exit code 137 \(killed by SIGKILL"):
        job.raise_for_status()
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_sigterm_of_a_stop_reaches_the_command(session: Session, python_image: str) -> None:
    """Python as PID 1 would ignore SIGTERM and be SIGKILLed after the grace period (137); under init it dies of it."""
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=sleep").fit()
    from tests.support.waiting import wait_until

    wait_until(lambda: "sleeping" in job.logs(), 60, "the job to start")
    job.stop()
    assert job.phase is JobPhase.TERMINATED
    assert job.exit_code == 128 + 15


# -- 3. the platform's arguments on the last command, from /home/ma-user ----------------------------------------

def test_a_shell_command_gets_the_platform_arguments_on_its_last_command(session: Session, tmp_path: Path,
                                                                        python_image: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
              train_instance_count=1, output_path=tmp_path / "out",
              hyperparameters=[{"label": "note", "value": "two words; $HOME"}],
              user_command="echo first > /cache/first.txt && python ${MA_JOB_DIR}/code/probe.py").fit(inputs=data, wait=True)
    probe = probe_of(tmp_path / "out")
    assert probe["argv"] == [f"{MA}/user-job-dir/code/probe.py", f"--data_url={MA}/inputs/data_url_0",
                             f"--train_url={MA}/outputs/train_url_0", "--note=two words; $HOME"]
    assert probe["cwd"] == "/home/ma-user"
    assert probe["env"]["note"] == "two words; $HOME"  # still a variable too


def test_a_command_whose_end_takes_no_arguments_is_refused_before_it_runs(session: Session, python_image: str,
                                                                        docker_client) -> None:
    est = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command="python ${MA_JOB_DIR}/code/probe.py &")
    before = labelled(docker_client)
    with pytest.raises(ConfigurationError, match=r"last command.*ends with '&'"):
        est.fit()
    assert labelled(docker_client) == before


# -- 4. hyperparameter labels that become variables -------------------------------------------------------------

@pytest.mark.parametrize("label", ["learning-rate", "model.depth"])
def test_a_custom_image_refuses_a_hyperparameter_label_that_is_no_variable_name(session: Session, label: str,
                                                                                docker_client) -> None:
    before = labelled(docker_client)
    with pytest.raises(ParameterError, match=rf"label '{label}' becomes an environment variable of the custom image.*"
                                             rf"\[A-Za-z_\]\[A-Za-z0-9_\]\*.*write '{label.replace('-', '_').replace('.', '_')}'") as info:
        Estimator(modelarts_session=session, code_dir=CODE, user_image_url="pytest-modelarts-test/absent:1",
                  train_instance_type="local", train_instance_count=1, user_command="python x.py",
                  hyperparameters=[{"label": label, "value": "1"}])
    assert info.value.parameter == "hyperparameters" and info.value.value == {"label": label, "value": "1"}
    assert labelled(docker_client) == before
    # a boot-file job gets them only as --label=value: there the label may have '-' and '.'
    Estimator(modelarts_session=session, code_dir=CODE, boot_file="probe.py", backend="docker", train_instance_type="local",
              train_instance_count=1, hyperparameters=[{"label": label, "value": "1"}])


# -- 5. the requirements file of a boot-file job ------------------------------------------------------------------

def make_wheel(folder: Path, name: str = "tinydep", version: str = "1.0") -> str:
    """A pure-Python wheel made by hand (no network, no build backend): ``import tinydep`` gives ``VALUE``."""
    filename = f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": 'VALUE = "from the wheel"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / filename, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return filename


BOOT = """import os, sys
import tinydep
print("imported", tinydep.VALUE, "from", os.path.dirname(tinydep.__file__), flush=True)
print("cloud keys:", sorted(k for k in os.environ if k.startswith("HUAWEICLOUD_SDK_")), flush=True)
print("cwd:", os.getcwd(), flush=True)
"""


def code_with_requirements(tmp_path: Path, requirements_name: str, content: str | None = None) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    wheel = make_wheel(code)
    (code / requirements_name).write_text(content if content is not None else wheel + "\n")
    (code / "train.py").write_text(BOOT)
    return code


@pytest.mark.parametrize("requirements_name", ["pip-requirements.txt", "requirements.txt"])
def test_a_boot_file_job_installs_its_requirements_file_first(tmp_path: Path, pip_image: str, requirements_name: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "never-in-the-container")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "never-in-the-container")
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, docker_image=pip_image)
    code = code_with_requirements(tmp_path, requirements_name)
    job = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", backend="docker",
                    train_instance_type="local", train_instance_count=1).fit(wait=False)
    assert job.wait() is JobPhase.COMPLETED, job.logs()
    log = job.logs()
    assert f"installing {requirements_name}" in log
    assert f"imported from the wheel from {job.sandbox / 'requirements-site' / 'tinydep'}" in log
    assert "cloud keys: []" in log  # the install and the job saw the contract's variables only
    assert f"cwd: {MA}/user-job-dir" in log  # the boot file runs where it always does


def test_a_failed_install_fails_the_job_before_the_boot_file(tmp_path: Path, pip_image: str) -> None:
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, docker_image=pip_image)
    code = code_with_requirements(tmp_path, "pip-requirements.txt", "absent-1.0-py3-none-any.whl\n")
    job = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", backend="docker",
                    train_instance_type="local", train_instance_count=1).fit()
    assert job.wait() is JobPhase.FAILED
    assert job.exit_code != 0
    assert job.failure_reason is not None and "installing pip-requirements.txt from the code directory failed" in job.failure_reason
    assert "installing pip-requirements.txt failed" in job.logs()
    assert "imported" not in job.logs()


def test_a_custom_image_installs_no_requirements_file(session: Session, tmp_path: Path, pip_image: str) -> None:
    code = code_with_requirements(tmp_path, "pip-requirements.txt")
    job = Estimator(modelarts_session=session, code_dir=code, user_image_url=pip_image, train_instance_type="local",
                    train_instance_count=1, user_command="python ${MA_JOB_DIR}/code/train.py").fit()
    assert job.wait() is JobPhase.FAILED  # no tinydep: "Only training jobs created using a preset image can reference dependency packages"
    assert "No module named 'tinydep'" in job.logs() and "installing" not in job.logs()
