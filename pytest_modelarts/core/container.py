"""``ContainerOptions``: how a job's containers are isolated (our addition; the Docker backend reads it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContainerOptions:
    """Isolation of a job's containers.

    ``network_mode``: None, a network private to the job (its workers reach each other, nothing else; a Docker
    job also reaches the outside through Docker's bridge); ``"none"``, no network beyond the job's own loopback;
    ``"host"``, the host's network (the local sandbox's switch for jobs that need the outside).
    ``cpus`` and ``memory`` (e.g. ``"512m"``) limit a container, and a job killed for memory reports exit 137 as
    out-of-memory; ``gpus`` requests that many GPUs (all with -1); ``user`` is who the job runs as (``"root"``,
    ``"1000"``, ``"uid:gid"``; default: the session's ``run_user``, ``ma-user`` 1000). Output files are given to the
    invoking user afterwards either way.
    ``flavor`` (a ModelArts flavor id, e.g. ``"modelarts.vm.cpu.2u"``) gives every worker that flavor's cores and
    memory instead (see :mod:`~pytest_modelarts.core.flavors`); ``smoke_memory`` and ``smoke_cpus`` scale them down
    on purpose, and the reports say so.
    """

    network_mode: str | None = None
    cpus: float | None = None
    memory: str | None = None
    gpus: int | None = None
    user: str | None = None
    flavor: str | None = None
    smoke_memory: str | None = None
    smoke_cpus: float | None = None
