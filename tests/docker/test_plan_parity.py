"""One plan, every backend: the same boot file sees the same node in a sandboxed process and in a Docker container.

A probe (``view/node_view.py``) prints what each worker sees: argv, variables, user, working directory, files, the
size of ``/dev/shm``, host names, a route to the outside, ``import moxing``. It runs on both backends for both
contract versions, with one and two workers, and the views are diffed: any difference must be listed, with its
reason, in docs/contract.md's "Deliberate differences between backends".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.backends.docker import owners as dk_owners
from tests.support.requirements import require_sandbox

pytestmark = pytest.mark.docker
VIEW = Path(__file__).parent / "view"
CONTRACT_DOC = Path(__file__).parents[2] / "docs" / "contract.md"
SECTION = "## Deliberate differences between backends"


def documented_differences() -> dict[str, str]:
    """The keys docs/contract.md allows to differ between backends, each with its reason."""
    text = CONTRACT_DOC.read_text()
    assert SECTION in text, f"docs/contract.md has no section {SECTION!r}"
    table = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]*) \|", table, flags=re.M)
    return {key: reason.strip() for key, reason in rows}


def flatten(view: dict[str, Any]) -> dict[str, Any]:
    """``{"env": {"PATH": ..}}`` -> ``{"env.PATH": ..}``: one key per thing a job can see."""
    flat = {key: value for key, value in view.items() if key != "env"}
    flat.update({f"env.{name}": value for name, value in view["env"].items()})
    return flat


def run_views(session: Session, backend: str, version: str, workers: int, inputs: Path) -> list[dict[str, Any]]:
    """Each worker's view, with what is the job's own (its id, its sandbox) named generically."""
    job = Estimator(modelarts_session=session, code_dir=VIEW, boot_file="node_view.py", backend=backend,
                    train_instance_type="local", train_instance_count=workers, contract=version,
                    hyperparameters=[{"label": "lr", "value": "0.1"}]).fit(inputs=inputs, wait=True, job_name="parity")
    logs = [Path(location).read_text() for location in job.log_locations()]
    assert job.phase is JobPhase.COMPLETED, "\n".join(logs)
    views = []
    for log in logs:
        line = next(line for line in log.splitlines() if line.startswith("NODE-VIEW "))
        text = line.removeprefix("NODE-VIEW ").replace(str(job.sandbox), "<sandbox>").replace(job.job_id, "<job>")
        views.append(flatten(json.loads(text)))
    return views


@pytest.fixture
def parity_session(tmp_path: Path, python_image: str) -> Session:
    require_sandbox()
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, sandbox=True,
                   docker_image=python_image)


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_boot_file_sees_the_same_node_in_a_sandbox_and_in_docker(parity_session: Session, tmp_path: Path,
                                                                     version: str, workers: int) -> None:
    inputs = tmp_path / "data"
    inputs.mkdir()
    (inputs / "train.csv").write_text("x,y\n")
    local = run_views(parity_session, "local", version, workers, inputs)
    docker = run_views(parity_session, "docker", version, workers, inputs)
    allowed = documented_differences()
    assert all(allowed.values()), "every deliberate difference gives its reason"
    for worker, (ours, theirs) in enumerate(zip(local, docker, strict=True)):
        differing = {key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key)}
        unexplained = {key: (ours.get(key), theirs.get(key)) for key in differing - allowed.keys()}
        assert not unexplained, f"worker {worker}: local and docker differ where docs/contract.md allows no difference"
        # what the contract promises, on both
        for view in (ours, theirs):
            assert view["moxing"] == "moxing" and view["shm_at_least_1g"] and view["shm_writable"]
            assert view["cache_writable"] and view["wrote_train_url"] and view["inputs"] == ["train.csv"]
            assert all(view["peers_resolve"]) and view["own_host_is_current_ip"]
            # the old platform appended --num_gpus; the new one does not (docs/contract.md)
            assert view["argv"][-2:] == ["--lr=0.1", "--num_gpus=0"] if version == "v1" else view["argv"][-1] == "--lr=0.1"
            assert (view["uid"], view["gid"]) == (1000, 100)
            home = "/home/work" if version == "v1" else "/home/ma-user"
            assert view["env.HOME"] == home and view["cwd"].startswith(home)
            assert any(key.startswith("env.DLS_") for key in view) == (version == "v1")
            assert any(key.startswith("env.MA_") for key in view) == (version == "v2")
        assert not ours["default_route"], "a node reaches its peers and nothing else"


def test_a_docker_job_network_reaches_neither_the_host_nor_the_outside(parity_session: Session, tmp_path: Path,
                                                                         docker_client) -> None:  # type: ignore[no-untyped-def]
    code = Path(__file__).parent / "code"
    inputs = tmp_path / "data"
    inputs.mkdir()
    job = Estimator(modelarts_session=parity_session, code_dir=code, boot_file="jobs.py", backend="docker",
                    train_instance_type="local", train_instance_count=2,
                    hyperparameters=[{"label": "mode", "value": "wait_for_go"}]).fit(inputs=inputs)
    with job:
        networks = docker_client.networks.list(filters={"label": f"{dk_owners.LABEL_JOB_ID}={job.job_id}"})
        assert len(networks) == 1
        attrs = networks[0].attrs
        # internal: no route out of Docker; no address of the host's on its bridge: the host is not reached either
        assert attrs["Internal"] is True
        assert attrs["Options"].get("com.docker.network.bridge.inhibit_ipv4") == "true"
        for worker in range(2):
            (job.sandbox / ("home" if worker == 0 else f"workers/{worker}/home") / "modelarts/inputs/data_url_0/go").touch()
        assert job.wait(timeout=60) is JobPhase.COMPLETED
