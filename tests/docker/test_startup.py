"""How a Docker job starts: its network made once, its workers created and started concurrently, each step timed."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.backends.docker.network import JOB_SUBNETS

from .conftest import labelled

pytestmark = pytest.mark.docker

BOOT = "import os\nprint('ip', os.environ['MA_CURRENT_IP'], flush=True)\n"


def two_workers(session: Session, tmp_path: Path, image: str) -> Estimator:
    code = tmp_path / "code"
    code.mkdir()
    (code / "ip.py").write_text(BOOT)
    return Estimator(modelarts_session=session, code_dir=code, user_image_url=image, train_instance_type="local",
                     train_instance_count=2, user_command="python ${MA_JOB_DIR}/code/ip.py")


def test_two_workers_are_created_and_started_concurrently(session: Session, tmp_path: Path, python_image: str,
                                                          docker_client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's create waits for the other's: one after the other, the first would wait alone and fail."""
    from docker.models.containers import ContainerCollection

    both = threading.Barrier(2, timeout=10)
    real_create = ContainerCollection.create

    def create(self: ContainerCollection, *args: Any, **kwargs: Any) -> Any:
        if "-worker-" in str(kwargs.get("name", "")):
            both.wait()
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(ContainerCollection, "create", create)
    job = two_workers(session, tmp_path, python_image).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.failure_reason
    assert not both.broken
    timings = job.get_job_info()["timings"]
    assert {"image", "network", "containers"} <= set(timings) and all(v >= 0 for v in timings.values())
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_the_job_network_is_made_once_with_the_workers_addresses(session: Session, tmp_path: Path, python_image: str,
                                                                 docker_client, monkeypatch: pytest.MonkeyPatch) -> None:
    from docker.models.networks import NetworkCollection

    made: list[dict[str, Any]] = []
    real_create = NetworkCollection.create

    def create(self: NetworkCollection, name: str, *args: Any, **kwargs: Any) -> Any:
        made.append({"name": name, **kwargs})
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(NetworkCollection, "create", create)
    job = two_workers(session, tmp_path, python_image).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.failure_reason
    assert [m["name"] for m in made] == [f"pytest-modelarts-{job.job_id}"]  # once: no probe network first
    subnet = ipaddress.ip_network(made[0]["ipam"]["Config"][0]["Subnet"])
    assert subnet.subnet_of(JOB_SUBNETS)
    ips = [ipaddress.ip_address(job.logs(i).split("ip ", 1)[1].split()[0]) for i in (0, 1)]
    assert all(ip in subnet for ip in ips) and ips[0] != ips[1]
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_where_no_subnet_of_ours_is_free_the_daemon_picks_one(session: Session, tmp_path: Path, python_image: str,
                                                               docker_client, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_modelarts.backends.docker import network

    monkeypatch.setattr(network, "_host_routes", lambda: [ipaddress.IPv4Network("172.16.0.0/12")])  # e.g. a VPN's
    assert network.free_subnet(docker_client) is None
    job = two_workers(session, tmp_path, python_image).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.failure_reason
    ips = [job.logs(i).split("ip ", 1)[1].split()[0] for i in (0, 1)]
    assert ips[0] != ips[1]
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_the_jobs_of_a_process_share_one_client_while_it_answers(docker_client, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_modelarts.backends.docker.client import shared_client

    first = shared_client()
    assert shared_client() is first

    def gone() -> None:
        raise ConnectionError("the daemon went away")

    monkeypatch.setattr(first, "ping", gone)
    second = shared_client()
    assert second is not first and second.ping()
