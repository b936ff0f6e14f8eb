"""``ContainerOptions``: how a job's containers are isolated (our addition; the Docker backend reads it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerOptions:
    """Isolation of a job's containers.

    ``network_mode="none"`` cuts the job off any network; ``cpus`` and ``memory`` (e.g. ``"512m"``) limit it,
    and a job killed for memory reports exit 137 as out-of-memory; ``gpus`` requests that many GPUs (all
    with -1); ``user`` is the ``uid[:gid]`` the job runs as (default: the image's user; output files are
    given to the invoking user afterwards either way).
    """

    network_mode: str | None = None
    cpus: float | None = None
    memory: str | None = None
    gpus: int | None = None
    user: str | None = None
