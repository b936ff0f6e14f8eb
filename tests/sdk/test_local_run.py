"""A local run reproduces the ModelArts container contract and its job handle behaves like the ModelArts SDK's."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pytest_modelarts import (
    CondaDependencies,
    Environment,
    Estimator,
    JobFailedError,
    JobPhase,
    JobStoppedError,
    Session,
)
from tests.support.waiting import wait_until

PROBE = textwrap.dedent("""
    import argparse, json, os, sys
    p = argparse.ArgumentParser()
    p.add_argument("--data_url"); p.add_argument("--train_url"); p.add_argument("--lr")
    args, unknown = p.parse_known_args()
    record = {"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ), "unknown": unknown,
              "executable": sys.executable, "inputs": sorted(os.listdir(args.data_url)) if os.path.isdir(args.data_url) else args.data_url}
    with open(os.path.join(args.train_url, "probe.json"), "w") as fh:
        json.dump(record, fh)
    print("probe done")
""")


def write(code: Path, name: str, text: str) -> Path:
    path = code / name
    path.write_text(textwrap.dedent(text))
    return path


def estimator(session: Session, code: Path, boot: str = "train.py", **kw) -> Estimator:
    return Estimator(modelarts_session=session, code_dir=str(code), boot_file=boot,
                     train_instance_type="local", train_instance_count=kw.pop("count", 1), **kw)


def test_the_sdk_reference_example_runs_with_our_import_path(tmp_path, monkeypatch):
    """The SDK reference's local-training example (local code dir; no output_path, no inputs) completes with the documented defaults."""
    code = tmp_path / "train"
    code.mkdir()
    write(code, "tensorflow_mlp_mnist.py", PROBE)
    monkeypatch.chdir(tmp_path)
    session = Session()
    env = Environment("tensorflow_mlp_mnist")
    estimator = Estimator(modelarts_session=session, code_dir=str(code) + "/", boot_file="tensorflow_mlp_mnist.py",
                          train_instance_type="local", train_instance_count=1, environment=env)
    job = estimator.fit(wait=False, job_name="my_training_job")
    assert job.wait() is JobPhase.COMPLETED
    assert job.exit_code == 0
    out = Path(job.output_path)
    assert out == Path(job.sandbox) / "output" and out.is_relative_to(tmp_path / ".modelarts")
    probe = json.loads((out / "probe.json").read_text())
    assert probe["inputs"] == []  # no inputs: data_url is an empty directory
    assert "[pytest-modelarts] job my_training_job" in job.logs() and "unisolated interpreter" in job.logs()


def test_sdk_style_conda_assignment_is_validated():
    env = Environment("tensorflow_mlp_mnist")
    env.conda = CondaDependencies.create(pip_packages=["tensorflow==1.13.1"], conda_packages=["python=3.6.2"])
    assert env.conda.conda_packages == ("python=3.6.2",)


def test_probe_sees_the_container_contract(sdk_session, tmp_path):
    code = tmp_path / "demo-code"
    code.mkdir()
    write(code, "sub/train.py", "") if False else None
    (code / "sub").mkdir()
    write(code, "sub/train.py", PROBE)
    data = tmp_path / "data"
    data.mkdir()
    (data / "sample.csv").write_text("1,2\n")
    out = tmp_path / "out"
    job = estimator(sdk_session, code, "sub/train.py", output_path=str(out),
                    hyperparameters=[{"label": "lr", "value": "0.01"}, {"label": "epochs", "value": "2"}]).fit(
        inputs=f"file://{data}", wait=True, job_name="probe")
    probe = json.loads((out / "probe.json").read_text())
    env = probe["env"]
    home = Path("/home/ma-user")  # a sandboxed node: the container's own paths (tests/sandbox for the fallback)
    mount = home / "modelarts"
    assert env["MA_HOME"] == str(home) == env["HOME"]
    assert env["MA_MOUNT_PATH"] == str(mount)
    assert env["MA_JOB_DIR"] == str(mount / "user-job-dir")
    assert env["MA_LOG_DIR"] == str(mount / "log")
    assert probe["cwd"] == env["MA_JOB_DIR"]  # not the code directory
    assert probe["argv"] == [
        str(mount / "user-job-dir" / "demo-code" / "sub" / "train.py"),
        f"--data_url={mount}/inputs/data_url_0",
        f"--train_url={mount}/outputs/train_url_0",
        "--lr=0.01", "--epochs=2",
    ]
    assert probe["unknown"] == ["--epochs=2"]  # v2 appends no --num_gpus (docs/contract.md)
    assert probe["inputs"] == ["sample.csv"]
    assert env["MA_NUM_HOSTS"] == env["VC_WORKER_NUM"] == "1"
    assert env["VC_TASK_INDEX"] == "0"
    assert env["VC_WORKER_HOSTS"] == f"modelarts-job-{job.job_id}-worker-0.modelarts-job-{job.job_id}"
    assert env["MA_CURRENT_IP"] == "10.200.0.2"
    assert env["MA_TASK_NAME"] == "worker"
    assert env["MA_VJ_NAME"] == f"modelarts-job-{job.job_id}"
    assert env["MA_CURRENT_INSTANCE_NAME"] == f"modelarts-job-{job.job_id}-worker-0"
    assert env["MA_NUM_GPUS"] == "0"
    # v2 exact: the old (v1) variables are gone, the documented v2 ones are there (docs/contract.md)
    assert not [name for name in env if name.startswith(("DLS_", "BATCH_"))]
    assert env["WORKSPACE"] == str(mount / "user-job-dir" / "demo-code") and env["MA_SCRIPT_INTERPRETER"] == ""
    assert env["MA_PIP_URL"].endswith("/simple/") and env["MA_PIP_HOST"] in env["MA_PIP_URL"]
    assert env["PYTHONPATH"].split(":")[0] == env["MA_JOB_DIR"]
    assert "VIRTUAL_ENV" not in env  # the caller's environment does not leak in


def test_single_input_file_is_passed_as_data_url(sdk_session, code_dir, tmp_path):
    write(code_dir, "train.py", PROBE)
    sample = tmp_path / "one.csv"
    sample.write_text("x")
    job = estimator(sdk_session, code_dir).fit(inputs=str(sample), wait=True)
    probe = json.loads((Path(job.output_path) / "probe.json").read_text())
    assert probe["inputs"].endswith("/inputs/data_url_0/one.csv")


def test_fit_without_wait_returns_while_running(sdk_session, code_dir, tmp_path):
    write(code_dir, "train.py", """
        import os, time
        print("waiting", flush=True)
        while not os.path.exists(os.path.expanduser("~/gate")):  # the job's home: where both sides can see it
            time.sleep(0.02)
        print("released")
    """)
    job = estimator(sdk_session, code_dir).fit(wait=False)
    assert job.phase is JobPhase.RUNNING
    assert job.exit_code is None
    (Path(job.sandbox) / "home" / "gate").touch()
    assert job.wait(timeout=60) is JobPhase.COMPLETED
    assert job.logs().splitlines()[1:3] == ["waiting", "released"]
    assert job.get_job_info()["status"] == 10


def test_failure_raises_with_last_log_lines_and_keeps_outputs(sdk_session, code_dir, tmp_path):
    write(code_dir, "train.py", """
        import argparse, os
        p = argparse.ArgumentParser(); p.add_argument("--train_url"); a, _ = p.parse_known_args()
        open(os.path.join(a.train_url, "partial.txt"), "w").write("half an epoch")
        for i in range(40):
            print("step", i)
        raise RuntimeError("loss is nan")
    """)
    out = tmp_path / "out"
    logs = tmp_path / "logs"
    with pytest.raises(JobFailedError) as excinfo:
        estimator(sdk_session, code_dir, output_path=str(out), log_url=str(logs)).fit(wait=True, job_name="broken")
    err = excinfo.value
    assert err.job is not None and err.job.phase is JobPhase.FAILED and err.job.exit_code == 1
    assert "RuntimeError: loss is nan" in err.log_tail[-1]
    assert "step 39" in str(err) and "exit code 1" in str(err)
    assert (out / "partial.txt").read_text() == "half an epoch"  # outputs kept on failure
    copied = list(logs.glob("*.log"))
    assert len(copied) == 1 and "loss is nan" in copied[0].read_text()


def test_parse_args_scripts_fail_like_online(sdk_session, code_dir):
    """A hyperparameter the script did not declare: parse_args() fails, as it would online. (A v2 job gets no
    --num_gpus: docs/contract.md.)"""
    write(code_dir, "train.py", """
        import argparse
        p = argparse.ArgumentParser(); p.add_argument("--data_url"); p.add_argument("--train_url")
        p.parse_args()
    """)
    with pytest.raises(JobFailedError) as excinfo:
        estimator(sdk_session, code_dir, hyperparameters=[{"label": "lr", "value": "0.1"}]).fit(wait=True)
    assert "unrecognized arguments: --lr=0.1" in str(excinfo.value)


def test_relative_open_fails_like_online(sdk_session, code_dir):
    write(code_dir, "config.json", "{}")
    write(code_dir, "train.py", "open('config.json')\n")
    with pytest.raises(JobFailedError, match="FileNotFoundError"):
        estimator(sdk_session, code_dir).fit(wait=True)


def test_logs_paging_and_file_list(sdk_session, code_dir):
    write(code_dir, "train.py", "print('0123456789')\n")
    job = estimator(sdk_session, code_dir).fit(wait=True)
    (name,) = job.get_job_log_file_list()
    assert name == f"modelarts-job-{job.job_id}-worker-0.log"
    full = job.get_job_log(name)
    assert full.endswith("0123456789\n")
    offset = full.index("0123")
    assert job.get_job_log(name, offset=offset + 4, size=3) == "456"


def test_logs_stream_live(tmp_path, code_dir, capfd):
    session = Session(local_root=tmp_path / "r", stream_logs=True)
    write(code_dir, "train.py", "print('epoch 1 loss=0.5')\n")
    estimator(session, code_dir).fit(wait=True)
    assert "epoch 1 loss=0.5" in capfd.readouterr().out


def test_stop_marks_terminated_and_raise_for_status(sdk_session, code_dir):
    write(code_dir, "train.py", "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    job = estimator(sdk_session, code_dir).fit()
    _wait_for_log(job, "started")
    job.stop()
    assert job.phase is JobPhase.TERMINATED
    with pytest.raises(JobStoppedError):
        job.raise_for_status()


def test_requirements_file_is_installed_before_the_boot_file(sdk_session, code_dir):
    """Preset images pip-install the code dir's requirements first; we install them into the sandbox."""
    write(code_dir, "requirements.txt", "six==1.16.0\n")
    write(code_dir, "train.py", "import six, sys\nprint('six', six.__version__, six.__file__)\n")
    job = estimator(sdk_session, code_dir).fit(wait=True)
    line = job.tail(1)[0]
    assert line.startswith("six 1.16.0 ") and str(job.sandbox) in line


def test_multi_worker_processes_get_their_own_index_and_address(sdk_session, code_dir):
    write(code_dir, "train.py", """
        import argparse, os, json
        p = argparse.ArgumentParser(); p.add_argument("--train_url"); a, _ = p.parse_known_args()
        i = os.environ["VC_TASK_INDEX"]
        json.dump({k: os.environ[k] for k in ("VC_TASK_INDEX", "MA_CURRENT_IP", "VC_WORKER_HOSTS", "MA_NUM_HOSTS")},
                  open(os.path.join(a.train_url, f"worker-{i}.json"), "w"))
    """)
    job = estimator(sdk_session, code_dir, count=3).fit(wait=True)
    seen = [json.loads((Path(job.output_path) / f"worker-{i}.json").read_text()) for i in range(3)]
    assert [s["MA_CURRENT_IP"] for s in seen] == ["10.200.0.2", "10.200.0.3", "10.200.0.4"]
    assert {s["VC_WORKER_HOSTS"] for s in seen} == {",".join(f"modelarts-job-{job.job_id}-worker-{i}.modelarts-job-{job.job_id}" for i in range(3))}
    assert len(job.get_job_log_file_list()) == 3


def _wait_for_log(job, text: str, limit: float = 30.0) -> None:
    wait_until(lambda: text in job.logs(), limit, lambda: f"{text!r} in the log: {job.logs()!r}")


def test_each_worker_has_a_node_of_its_own_and_output_conflicts_are_reported(sdk_session, code_dir, tmp_path):
    """As on ModelArts, every worker has its own home (code, inputs, train_url). Outputs of all workers are
    delivered; a file that workers wrote with different contents is reported, worker 0's copy kept."""
    write(code_dir, "train.py", """
        import argparse, os
        p = argparse.ArgumentParser(); p.add_argument("--train_url"); a, _ = p.parse_known_args()
        i = os.environ["VC_TASK_INDEX"]
        open(os.path.join(a.train_url, "model.pkl"), "w").write(f"weights of worker {i}")  # the trip-up
        open(os.path.join(a.train_url, "config.json"), "w").write("{}")                    # same everywhere: fine
        open(os.path.join(a.train_url, f"part-{i}.txt"), "w").write(i)                     # per-worker names: fine
        open(os.path.expanduser("~/whoami"), "w").write(i)                                  # each its own home
    """)
    out = tmp_path / "out"
    job = estimator(sdk_session, code_dir, count=3, output_path=str(out)).fit(wait=True)
    homes = [Path(job.sandbox) / "home", *(Path(job.sandbox) / "workers" / str(i) / "home" for i in (1, 2))]
    assert [(home / "whoami").read_text() for home in homes] == ["0", "1", "2"]
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.pkl", "part-0.txt", "part-1.txt", "part-2.txt"]
    assert (out / "model.pkl").read_text() == "weights of worker 0"
    assert job.get_job_info()["output_conflicts"] == ["model.pkl (workers 0, 1, 2)"]
    assert "[pytest-modelarts] output conflict: model.pkl (workers 0, 1, 2)" in job.logs(0)
    assert job.phase is JobPhase.COMPLETED  # a warning, not a failure: the job itself did not fail
