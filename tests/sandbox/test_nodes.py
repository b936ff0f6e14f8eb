"""Each local worker is a ModelArts node: its own paths, user, /cache and network, in a sandbox.

Every test runs a real job in real bubblewrap sandboxes; the boot file (code/node.py) shows the property.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from pytest_modelarts import ContainerOptions, Estimator, JobPhase, Session
from tests.support.processes import supervisors_of, tagged
from tests.support.waiting import wait_until

from .conftest import CODE


def estimator(session: Session, count: int = 1, **kwargs: object) -> Estimator:
    hyper = kwargs.pop("hyper", {})
    assert isinstance(hyper, dict)
    return Estimator(modelarts_session=session, code_dir=CODE, boot_file="node.py", train_instance_type="local",
                     train_instance_count=count, hyperparameters=[{"label": k, "value": str(v)} for k, v in hyper.items()],
                     **kwargs)  # type: ignore[arg-type]


def host_listener() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server, server.getsockname()[1]


def test_two_workers_are_two_nodes_with_the_containers_paths_user_cache_and_network(session: Session, tmp_path: Path) -> None:
    listener, host_port = host_listener()
    with listener:
        job = estimator(session, 2, output_path=tmp_path / "out", hyper={"port": 29500, "host_port": host_port}).fit(wait=True)
    job_dir = "/home/ma-user/modelarts/user-job-dir"
    hosts = [f"modelarts-job-{job.job_id}-worker-{i}.modelarts-job-{job.job_id}" for i in range(2)]
    for i in range(2):
        report = json.loads((tmp_path / "out" / f"worker-{i}.json").read_text())
        assert (report["uid"], report["gid"], report["user"]) == (1000, 100, "ma-user")
        assert report["cwd"] == job_dir and report["home"] == "/home/ma-user"
        assert report["code"] == f"{job_dir}/code"
        assert report["cache"] == str(i)  # its own /cache: the other worker wrote its index into its own
        assert report["resolved"] == {hosts[0]: "10.200.0.2", hosts[1]: "10.200.0.3"}
        assert report["ip"] == f"10.200.0.{i + 2}"
        assert report["interfaces"] == ["eth0", "lo"]  # its own network's, not the host's (docker0, eth0, ...)
        assert report["peer_says"] == f"modelarts-job-{job.job_id}"  # same port, on all addresses, both nodes
        assert report["host_loopback"] == "ConnectionRefusedError"
    assert job.get_job_info()["sandboxed"] is True


def test_two_jobs_at_once_on_the_same_port_never_meet(session: Session, tmp_path: Path) -> None:
    jobs = [estimator(session, 2, hyper={"port": 29500, "mode": "rendezvous"}).fit(wait=False) for _ in range(2)]
    for job in jobs:
        assert job.wait(60) is JobPhase.COMPLETED, job.logs(1)
        assert "worker 1 heard its own master" in job.logs(1)


def test_a_job_may_write_into_its_data_url_and_the_users_inputs_stay_as_they_were(session: Session, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1,2\n")
    (data / "b.csv").write_text("3,4\n")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    job = estimator(session, 2, hyper={"mode": "write_inputs"}).fit(inputs=str(data), wait=True)
    assert "wrote into data_url" in job.logs(0) and "wrote into data_url" in job.logs(1)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()} == before
    assert "inputs/data_url_0/a.csv (modified, worker 0)" in job.lost_writes
    assert "inputs/data_url_0/b.csv (deleted, worker 1)" in job.lost_writes


def test_a_file_written_next_to_the_code_is_reported_as_lost(session: Session, tmp_path: Path) -> None:
    job = estimator(session, hyper={"mode": "lost_write"}).fit(wait=True)
    assert job.lost_writes == ["user-job-dir/model.pkl (created)"]  # not train_url, /cache or /tmp
    assert job.get_job_info()["lost_writes"] == ["user-job-dir/model.pkl (created)"]
    assert ("[pytest-modelarts] wrote user-job-dir/model.pkl (created): online this file is lost; "
            "write it under --train_url") in job.logs()


def test_the_run_user_is_configurable_and_files_belong_to_the_invoking_user(tmp_path: Path) -> None:
    for run_user, expected in (("root", (0, 0)), (1102, (1102, 100)), ("1000:1000", (1000, 1000))):
        session = Session(local_root=tmp_path / str(run_user), stream_logs=False, sandbox=True, run_user=run_user)
        out = tmp_path / f"out-{run_user}"
        estimator(session, output_path=out, hyper={"port": 29501}).fit(wait=True)
        report = json.loads((out / "worker-0.json").read_text())
        assert (report["uid"], report["gid"]) == expected
        written = out / "worker-0.json"
        assert (written.stat().st_uid, written.stat().st_gid) == (os.getuid(), os.getgid())


def test_the_hosts_network_is_a_switch(session: Session, tmp_path: Path) -> None:
    listener, host_port = host_listener()
    with listener:
        threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
        estimator(session, output_path=tmp_path / "out", hyper={"port": 29502, "host_port": host_port},
                  container_options=ContainerOptions(network_mode="host")).fit(wait=True)
    assert json.loads((tmp_path / "out" / "worker-0.json").read_text())["host_loopback"] == "reached"


def test_sigkill_of_a_supervisor_ends_its_worker_and_the_workers_daemons(session: Session) -> None:
    tag = f"node-tag-{uuid.uuid4().hex}"
    job = estimator(session, 2, hyper={"mode": "sleep", "tag": tag}).fit(wait=False)
    wait_until(lambda: "started" in job.logs(0) and "started" in job.logs(1), what="both workers")
    supervisors = supervisors_of(tagged(tag))
    assert len(supervisors) == 2
    os.kill(supervisors[1].pid, signal.SIGKILL)
    assert job.wait(60) is JobPhase.FAILED  # the worker is gone: the job fails, and the other worker is stopped
    wait_until(lambda: tagged(tag) == [], what="every process of the job to end")


PARENT = """
import sys
from pytest_modelarts import Estimator, Session
session = Session(local_root=sys.argv[1], stream_logs=False, stop_grace_period=1, sandbox=True)
est = Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="node.py", train_instance_type="local",
                train_instance_count=2, hyperparameters=[{"label": "mode", "value": "sleep"}, {"label": "tag", "value": sys.argv[3]}])
job = est.fit(wait=False)
print(job.sandbox, flush=True)
job.wait()
"""


def test_sigkill_of_the_caller_leaves_no_process_of_the_job(tmp_path: Path) -> None:
    tag = f"node-tag-{uuid.uuid4().hex}"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "root"), str(CODE), tag],
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    sandbox = Path(parent.stdout.readline().strip())
    logs = sandbox / "home" / "modelarts" / "log"
    wait_until(lambda: sum("started" in log.read_text() for log in logs.glob("*.log")) == 2, what="both workers")
    assert len(tagged(tag)) >= 4  # supervisors, launchers, boot files, daemons
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: tagged(tag) == [], what="every process of the job to end after its caller died")


def test_sandbox_false_is_the_relocated_mode_and_says_so(tmp_path: Path) -> None:
    session = Session(local_root=tmp_path / "root", stream_logs=False, sandbox=False)
    job = estimator(session, output_path=tmp_path / "out", hyper={"mode": "plain"}).fit(wait=True)
    report = json.loads((tmp_path / "out" / "worker-0.json").read_text())
    assert report["home"] == str(Path(job.sandbox) / "home") and report["uid"] == os.getuid()
    assert "relocated under" in job.logs() and job.get_job_info()["sandboxed"] is False


FALLBACK = """
import sys
from pytest_modelarts import Estimator, Session
session = Session(local_root=sys.argv[1], stream_logs=False, sandbox=True if sys.argv[3:] == ["required"] else None)
job = Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="node.py", train_instance_type="local",
                train_instance_count=1, hyperparameters=[{"label": "mode", "value": "plain"}]).fit(wait=True)
print(job.logs().splitlines()[0])
"""


def test_without_bubblewrap_the_relocated_mode_runs_and_says_which_guarantees_are_off(tmp_path: Path) -> None:
    """A machine without bwrap (here: a PATH without it) runs the job relocated, saying so; CI can forbid that."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("unshare", "nsenter", "ip", "sh"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bin_dir)}
    env.pop("PYTEST_MODELARTS_REQUIRE_SANDBOX", None)
    run = subprocess.run([sys.executable, "-c", FALLBACK, str(tmp_path / "root"), str(CODE)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "relocated under" in run.stdout and "no sandbox: bwrap not found" in run.stdout
    required = subprocess.run([sys.executable, "-c", FALLBACK, str(tmp_path / "root2"), str(CODE)],
                              env={**env, "PYTEST_MODELARTS_REQUIRE_SANDBOX": "1"}, capture_output=True, text=True, timeout=120)
    assert required.returncode != 0
    assert "PYTEST_MODELARTS_REQUIRE_SANDBOX=1 asks for sandboxed nodes, but bwrap not found" in required.stderr
    asked = subprocess.run([sys.executable, "-c", FALLBACK, str(tmp_path / "root3"), str(CODE), "required"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert asked.returncode != 0 and "Session(sandbox=True) asks for sandboxed nodes, but bwrap not found" in asked.stderr


def test_a_node_has_a_var_of_its_own_without_the_container_runtimes_layers(session: Session, tmp_path: Path) -> None:
    """A recursive bind of the host's /var failed when a Docker container's layer under it was unmounted meanwhile
    ("Unable to apply mount flags"): a node has a /var of its own, as a container has its image's, with a writable
    /var/tmp, and sees nothing of the host's /var."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "look.py").write_text(
        "import json, os, tempfile\n"
        "with tempfile.NamedTemporaryFile(dir='/var/tmp') as fh:\n"
        "    fh.write(b'scratch')\n"
        "print('SEEN', json.dumps(sorted(os.listdir('/var'))))\n")
    job = Estimator(modelarts_session=session, code_dir=code, boot_file="look.py", train_instance_type="local",
                    train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    seen = json.loads(next(line for line in job.logs().splitlines() if line.startswith("SEEN "))[5:])
    assert seen == ["tmp"] and sorted(os.listdir("/var")) != ["tmp"]
