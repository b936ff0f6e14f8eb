"""Isolation switches: no network, memory limits reported as ModelArts does (exit 137, out of memory)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pytest_modelarts import ContainerOptions, Estimator, JobFailedError, JobPhase, Session

from .conftest import CODE, MULTINODE_CODE, labelled

pytestmark = pytest.mark.docker


@pytest.fixture
def host_service(docker_client):  # type: ignore[no-untyped-def]
    """A TCP service of the host on loopback and on the default Docker bridge's address; yields their targets."""
    import ipaddress

    config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    bridge = config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    servers = [socket.create_server(("127.0.0.1", 0)), socket.create_server((bridge, 0))]
    stop = threading.Event()

    def serve(server: socket.socket) -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"host-service\n")

    threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield {"loopback": f"127.0.0.1:{servers[0].getsockname()[1]}", "bridge": f"{bridge}:{servers[1].getsockname()[1]}"}
    stop.set()
    for t in threads:
        t.join()
    for s in servers:
        s.close()


def connect_job(session: Session, image: str, targets: str, options: ContainerOptions, count: int = 1) -> Estimator:
    return Estimator(modelarts_session=session, code_dir=CODE, user_image_url=image, train_instance_type="local",
                     train_instance_count=count, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=connect",
                     hyperparameters=[{"label": "target", "value": targets}], container_options=options)


def test_a_job_reaches_the_host_only_on_a_network_with_a_way_out(session: Session, python_image: str, host_service: dict[str, str]) -> None:
    """The control for the tests below: the service is reachable from a container whose network has a way out."""
    job = connect_job(session, python_image, host_service["bridge"], ContainerOptions(network_mode="host")).fit(wait=True)
    assert f"{host_service['bridge']}: reached host-service" in job.logs()


def test_a_job_on_its_private_network_cannot_reach_host_services(session: Session, python_image: str,
                                                                 host_service: dict[str, str]) -> None:
    targets = f"{host_service['loopback']},{host_service['bridge']}"
    job = connect_job(session, python_image, targets, ContainerOptions()).fit(wait=True)
    log = job.logs()
    assert f"{host_service['loopback']}: unreachable" in log and f"{host_service['bridge']}: unreachable" in log
    assert "reached" not in log


def test_no_network_job_cannot_reach_host_services(session: Session, python_image: str, host_service: dict[str, str], docker_client) -> None:
    targets = f"{host_service['loopback']},{host_service['bridge']}"
    job = connect_job(session, python_image, targets, ContainerOptions(network_mode="none")).fit(wait=True)
    log = job.logs()
    assert f"{host_service['loopback']}: unreachable" in log
    assert f"{host_service['bridge']}: unreachable" in log
    assert "reached" not in log
    assert job.get_job_info()["network"] is None
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_no_network_multi_node_job_reaches_only_its_workers(session: Session, tmp_path: Path, python_image: str,
                                                          host_service: dict[str, str], docker_client) -> None:
    job = connect_job(session, python_image, f"{host_service['loopback']},{host_service['bridge']}",
                      ContainerOptions(network_mode="none"), count=2).fit(wait=True)
    for i in range(2):
        assert "reached" not in job.logs(i) and job.logs(i).count("unreachable") == 2
    # yet the workers meet each other through the contract's host names
    job = Estimator(modelarts_session=session, code_dir=MULTINODE_CODE, user_image_url=python_image,
                    train_instance_type="local", train_instance_count=3, output_path=tmp_path / "out",
                    hyperparameters=[{"label": "port", "value": "29500"}],
                    user_command="python ${MA_JOB_DIR}/code/rendezvous.py",
                    container_options=ContainerOptions(network_mode="none")).fit(wait=True)
    assert (tmp_path / "out" / "rendezvous.txt").read_text() == "1,2\n"
    assert "me 127.0.0.3" in job.logs(2)
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_memory_overrun_is_reported_as_out_of_memory(session: Session, tmp_path: Path, python_image: str, docker_client) -> None:
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                    train_instance_count=1, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=oom",
                    container_options=ContainerOptions(memory="64m")).fit()
    assert job.wait() is JobPhase.FAILED
    assert job.exit_code == 137
    assert (job.failure_reason or "").startswith("out of memory: exceeded the memory limit of 64 MiB (memory=)")
    assert "without being stopped" not in job.logs()
    with pytest.raises(JobFailedError, match=r"exit code 137 \(out of memory: exceeded the memory limit of 64 MiB"):
        job.raise_for_status()
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_no_network_workers_may_outlive_worker_0(session: Session, python_image: str, docker_client) -> None:
    """The offline namespace belongs to a pause container, not to worker 0: worker 0 may end before the others
    have even started (it used to make their start fail: 'namespace path ... no such file')."""
    for _ in range(3):
        job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, train_instance_type="local",
                        train_instance_count=3, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=first_leaves",
                        container_options=ContainerOptions(network_mode="none")).fit(wait=True)
        assert [job.logs(i).count("bound 127.0.0.") for i in range(3)] == [0, 1, 1]
        assert labelled(docker_client, job.job_id) == (0, 0)
