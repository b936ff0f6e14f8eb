"""The Docker daemon: a client of it, or why there is none."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...errors import BackendError

if TYPE_CHECKING:
    import docker


def docker_client() -> docker.DockerClient:
    """A client of the daemon ``DOCKER_HOST`` names (default: the local socket), checked to answer."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise BackendError("the docker backend needs the Docker SDK for Python: pip install docker") from exc
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise BackendError(
            f"no Docker daemon answers at {where} ({exc.__class__.__name__}: {exc}); start the Docker daemon, "
            "set DOCKER_HOST, or run boot-file jobs with backend='local'"
        ) from None
    return client


def docker_available() -> str | None:
    """None when a Docker daemon answers, else why not (for skip messages)."""
    try:
        docker_client().close()
    except BackendError as exc:
        return str(exc)
    return None
