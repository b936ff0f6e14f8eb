"""``pytest-modelarts job status|logs|stop <id>`` against the emulator, for jobs created through the SDK.

The command reads the credentials and endpoints from the environment, as ``Session()`` does
(``modelarts_emulator.env()``); nothing here is mocked: every request goes over HTTP to the emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from pytest_modelarts import Estimator, JobPhase
from pytest_modelarts.cli import main

from .conftest import FLAVOR, MULTI_NODE_FLAVOR


@pytest.fixture
def online_env(modelarts_emulator, monkeypatch):
    for name, value in modelarts_emulator.env().items():
        monkeypatch.setenv(name, value)
    return modelarts_emulator


def fit(emulator, code, data, *, epochs="2", name, wait=True, nodes=1):
    return Estimator(modelarts_session=emulator.session(), code_dir=str(code), boot_file="train.py",
                     train_instance_type=FLAVOR if nodes == 1 else MULTI_NODE_FLAVOR, framework_type="PyTorch", train_instance_count=nodes, output_path="obs://emulator-bucket/out/",
                     hyperparameters=[{"label": "epochs", "value": epochs}]).fit(inputs=str(data), job_name=name, wait=wait)


def run(capsys, *argv):
    rc = main(["job", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_status_and_logs_of_a_completed_job(online_env, online_code, online_data, capsys):
    job = fit(online_env, online_code, online_data, name="cli-done", nodes=2)
    [doc] = online_env.jobs()
    rc, out, err = run(capsys, "status", job.job_id)
    assert (rc, err) == (0, "")
    lines = dict(line.split(":", 1) for line in out.splitlines())
    assert lines["job id"].strip() == job.job_id == doc["metadata"]["id"]
    assert lines["name"].strip() == "cli-done"
    assert lines["phase"].strip() == "Completed"
    assert lines["flavor"].strip() == f"{MULTI_NODE_FLAVOR} x 2"
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(doc["metadata"]["create_time"] / 1000))
    assert lines["created"].strip() == created
    assert lines["started"].strip().endswith("UTC") and lines["exit code"].strip() == "0"
    assert "reason" not in lines

    rc, out, err = run(capsys, "logs", job.job_id)
    assert (rc, err) == (0, "")
    assert out.splitlines()[0] == "==> worker-0 <==" and "==> worker-1 <==" in out
    assert out.count("epochs 2 data ['train.csv']") == 2  # each node's log, as the service serves it
    rc, out, _ = run(capsys, "logs", job.job_id, "--task", "worker-1", "--tail", "1")
    assert (rc, out) == (0, "epochs 2 data ['train.csv']\n")
    rc, out, err = run(capsys, "logs", job.job_id, "--task", "worker-7")
    assert rc == 1 and "has no task 'worker-7'; its tasks: worker-0, worker-1" in err


def test_status_of_a_failed_job_says_why(online_env, online_code, online_data, capsys):
    job = fit(online_env, online_code, online_data, epochs="fail", name="cli-fails", wait=False)
    assert job.wait(120) is JobPhase.FAILED
    rc, out, err = run(capsys, "status", job.job_id)
    assert rc == 0
    assert "phase:      Failed\n" in out and "exit code:  3\n" in out
    assert "reason:     boom (exit code 3)\n" in out  # the last line of its log, read through the service
    rc, out, _ = run(capsys, "logs", job.job_id, "--tail", "1")
    assert out == "boom\n"


def test_stop_terminates_a_running_job_and_prints_its_final_phase(online_env, online_code, online_data, capsys):
    (online_code / "train.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    job = fit(online_env, online_code, online_data, name="cli-stop", wait=False)
    deadline = time.monotonic() + 60
    while "started" not in job.logs() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.phase is JobPhase.RUNNING
    rc, out, err = run(capsys, "stop", job.job_id)
    assert (rc, err) == (0, "")
    assert out == f"job {job.job_id} stopped: Terminated\n"
    assert online_env.jobs()[0]["emulator"]["history"][-2:] == ["Terminating", "Terminated"]
    rc, out, _ = run(capsys, "stop", job.job_id)  # again: nothing to stop
    assert (rc, out) == (0, f"job {job.job_id} had already ended: Terminated\n")
    rc, out, _ = run(capsys, "status", job.job_id)
    assert "phase:      Terminated\n" in out


def test_an_unknown_id_is_an_error_naming_it_without_a_traceback(online_env):
    """Through the command in a subprocess: its exit status and its whole output."""
    env = {**os.environ, **online_env.env()}
    result = subprocess.run([sys.executable, "-m", "pytest_modelarts.cli", "job", "status", "no-such-job"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: no training job with id 'no-such-job' in project ")
    assert "Traceback" not in result.stderr and online_env.secret_key not in result.stderr
    for command in ("logs", "stop"):
        again = subprocess.run([sys.executable, "-m", "pytest_modelarts.cli", "job", command, "no-such-job"],
                               capture_output=True, text=True, env=env, timeout=120)
        assert again.returncode == 1 and "no-such-job" in again.stderr and "Traceback" not in again.stderr


def test_missing_credentials_name_the_variables_to_set(monkeypatch, capsys):
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_SDK_REGION",
                 "MODELARTS_ENDPOINT", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AKONLY")
    rc, out, err = run(capsys, "status", "some-id")
    assert rc == 1 and out == ""
    assert err.startswith("error: reaching an online job needs credentials and a service; set ")
    for name in ("HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "MODELARTS_ENDPOINT", "HUAWEICLOUD_SDK_REGION"):
        assert name in err
    assert "HUAWEICLOUD_SDK_AK" not in err  # it is set


def test_wrong_credentials_are_refused_without_showing_the_secret(online_env, online_code, online_data, monkeypatch, capsys):
    job = fit(online_env, online_code, online_data, name="cli-auth")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "not-the-secret-key-0123")
    rc, out, err = run(capsys, "status", job.job_id)
    assert rc == 1 and out == ""
    assert "HTTP 401" in err and "check the access key" in err
    assert "not-the-secret-key-0123" not in err and online_env.secret_key not in err
