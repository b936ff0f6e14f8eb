"""The Docker daemon: a client of it, or why there is none."""

from __future__ import annotations

import contextlib
import os
import threading
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


_SHARED: dict[tuple[str, int], docker.DockerClient] = {}
_SHARED_LOCK = threading.Lock()


def shared_client() -> docker.DockerClient:
    """The client the jobs of this process share (one per ``DOCKER_HOST``), checked to answer at each call.

    Making a client costs ~10 ms (API version negotiation, a ping, a new connection); a ping on the shared
    client's open connection under 1 ms. A client that no longer answers is replaced: the error is then
    :func:`docker_client`'s. Nobody closes it: it lives as long as the process (or a fork of it: keyed by pid).
    """
    key = (os.environ.get("DOCKER_HOST", ""), os.getpid())
    with _SHARED_LOCK:
        client = _SHARED.pop(key, None)
        if client is not None:
            try:
                client.ping()
            except Exception:
                with contextlib.suppress(Exception):
                    client.close()
                client = None
        if client is None:
            client = docker_client()
        _SHARED[key] = client
        return client


def docker_available() -> str | None:
    """None when a Docker daemon answers, else why not (for skip messages)."""
    try:
        docker_client().close()
    except BackendError as exc:
        return str(exc)
    return None
