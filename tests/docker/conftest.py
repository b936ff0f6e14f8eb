from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session
from pytest_modelarts.backends.docker import client as dk_client
from pytest_modelarts.backends.docker import owners as dk_owners

from ..support import images
from ..support.requirements import missing

CODE = Path(__file__).parent / "code"
MULTINODE_CODE = Path(__file__).parent.parent / "multinode" / "code"


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    """A client of the local daemon; the test is skipped without one (failed where CI requires docker)."""
    why = dk_client.docker_available()
    if why is not None:
        missing("docker", f"needs a Docker daemon: {why}")
    client = dk_client.docker_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def python_image(docker_client) -> str:  # type: ignore[no-untyped-def]
    try:
        return images.python_image(docker_client)
    except images.ImageUnavailable as exc:
        missing("debian-python", str(exc))


@pytest.fixture(scope="session")
def ma_user_image(docker_client, python_image) -> str:  # type: ignore[no-untyped-def]
    return images.ma_user_image(docker_client)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1)


def labelled(client, job_id: str | None = None) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(containers, networks) carrying our labels, of one job or of all."""
    label = f"{dk_owners.LABEL_JOB_ID}={job_id}" if job_id else dk_owners.LABEL
    return (len(client.containers.list(all=True, filters={"label": label})),
            len(client.networks.list(filters={"label": label})))


@pytest.fixture(scope="session")
def venv_image(docker_client, python_image) -> str:  # type: ignore[no-untyped-def]
    return images.venv_image(docker_client)


@pytest.fixture(scope="session")
def pip_image(docker_client, python_image) -> str:  # type: ignore[no-untyped-def]
    try:
        return images.pip_image(docker_client)
    except images.ImageUnavailable as exc:
        missing("pip", str(exc))
