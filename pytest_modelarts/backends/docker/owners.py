"""Who owns what: the labels on every container and network, the owner notes, and the clean-up of dead runs' leftovers.

Every container and network carries the labels ``pytest-modelarts.job``, ``.job-id``, ``.owner`` (host, pid and
start time of the process that made it) and ``.created``. A process that creates containers leaves a note in
an owners directory while it may own some, so that the next run's start-up asks Docker for leftovers only
when a noted owner died (and imports no Docker SDK otherwise).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.job import JobConfig
from ...core.oskit import start_ticks
from ...core.retry import RetryPolicy, retry
from ...errors import BackendError
from ..local.limits import remove_docker_groups
from .client import docker_client

if TYPE_CHECKING:
    import docker

LABEL = "pytest-modelarts"
LABEL_JOB = f"{LABEL}.job"
LABEL_JOB_ID = f"{LABEL}.job-id"
LABEL_WORKER = f"{LABEL}.worker"
LABEL_OWNER = f"{LABEL}.owner"
LABEL_CREATED = f"{LABEL}.created"
#: a network with endpoints still detaching refuses removal for a moment: try for about two seconds
NETWORK_REMOVAL = RetryPolicy(attempts=20, base_delay=0.1, max_delay=0.1, jitter=False)


def _owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{start_ticks(pid) or '?'}"


def _owner_alive(token: str) -> bool:
    """Whether the process that made a resource still runs (unknown hosts count as alive)."""
    try:
        host, pid, ticks = token.split("/")
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return start_ticks(int(pid)) == ticks


OWNERS_VARIABLE = "PYTEST_MODELARTS_DOCKER_OWNERS"  #: where owner notes go (default: the user cache dir)
_owner_noted = False


def _owners_dir() -> Path:
    override = os.environ.get(OWNERS_VARIABLE)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pytest-modelarts")) / "docker-owners"


def note_owner() -> None:
    """Leave this process's note: it may own containers from now on."""
    global _owner_noted
    if _owner_noted:
        return
    token = _owner_token()
    with contextlib.suppress(OSError):
        folder = _owners_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / token.replace("/", "-")).write_text(token)
        _owner_noted = True


def forget_owner() -> None:
    """Remove this process's note (at exit, once its containers are gone)."""
    if not _owner_noted:
        return
    with contextlib.suppress(OSError):
        (_owners_dir() / _owner_token().replace("/", "-")).unlink(missing_ok=True)


def leftovers_possible() -> bool:
    """Whether a process noted as owning containers has died (so :func:`cleanup_leftovers` has work)."""
    try:
        notes = list(_owners_dir().iterdir())
    except OSError:
        return False
    return any(not _owner_alive(n.read_text()) for n in notes if n.is_file())


def _forget_dead_owners() -> None:
    with contextlib.suppress(OSError):
        for note in _owners_dir().iterdir():
            with contextlib.suppress(OSError):
                if not _owner_alive(note.read_text()):
                    note.unlink()


def labels(config: JobConfig, job_id: str, **extra: str) -> dict[str, str]:
    return {LABEL: "1", LABEL_JOB: config.job_name, LABEL_JOB_ID: job_id, LABEL_OWNER: _owner_token(),
            LABEL_CREATED: str(int(time.time())), **extra}


@dataclass
class CleanupReport:
    """What :func:`cleanup_leftovers` removed (names), or why it could not look."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"nothing removed: {self.error}"
        return f"removed {len(self.containers)} container(s) and {len(self.networks)} network(s)"


def cleanup_leftovers(*, everything: bool = False, client: docker.DockerClient | None = None) -> CleanupReport:
    """Remove the containers and networks of jobs whose owning process is dead (all of ours with ``everything``).

    Never raises for an absent daemon: the report's ``error`` says why nothing was looked at. Resources of a
    process that still runs (this one, another pytest run) are left alone unless ``everything`` is given.
    """
    report = CleanupReport()
    own = client is None
    try:
        client = client or docker_client()
    except BackendError as exc:
        report.error = str(exc)
        return report
    import docker.errors

    def gone(exc: docker.errors.APIError) -> bool:
        # 404: already removed; 409: another run's clean-up is removing it right now
        return exc.status_code in (404, 409)

    try:
        for container in client.containers.list(all=True, filters={"label": LABEL}):
            if everything or not _owner_alive(container.labels.get(LABEL_OWNER, "")):
                try:
                    container.remove(force=True)
                    report.containers.append(container.name)
                    remove_docker_groups(container.labels.get(LABEL_JOB_ID, ""))  # its parent group (limits.py)
                except docker.errors.APIError as exc:
                    if not gone(exc):
                        raise
        for network in client.networks.list(filters={"label": LABEL}):
            if everything or not _owner_alive((network.attrs.get("Labels") or {}).get(LABEL_OWNER, "")):
                if remove_network(network):
                    report.networks.append(network.name)
        _forget_dead_owners()  # their resources are gone
    finally:
        if own:
            client.close()
    return report


def remove_network(network: Any) -> bool:
    """Remove a network, waiting while its endpoints detach; False when it was gone (or being removed) already."""
    import docker.errors

    class _Detaching(Exception):
        pass

    def attempt() -> bool:
        try:
            network.remove()
            return True
        except docker.errors.APIError as exc:
            if exc.status_code in (404, 409):  # removed already, or by another run's clean-up right now
                return False
            if exc.status_code == 403:  # endpoints still detaching
                raise _Detaching(str(exc)) from exc
            raise

    try:
        return retry(attempt, policy=NETWORK_REMOVAL, retry_on=_Detaching)
    except _Detaching as exc:
        raise exc.__cause__ or exc from None
