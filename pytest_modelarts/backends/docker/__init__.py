"""The ``docker`` backend: custom-image jobs, and any local job with ``backend="docker"``, in Docker containers.

Modules: :mod:`.backend` (the backend and the container spec of each worker, the decisions of docs/containers.md),
:mod:`.execution` (running, following and removing a job's containers), :mod:`.owners` (labels, owner notes,
clean-up of dead runs' leftovers), :mod:`.files` (output ownership), :mod:`.pause` (the offline namespace holder),
:mod:`.client` (the daemon).
"""

from .backend import IMAGE_VARIABLE, DockerBackend
from .client import docker_available, docker_client
from .files import OWNER_VARIABLE, output_owner
from .owners import LABEL, LABEL_JOB_ID, OWNERS_VARIABLE, CleanupReport, cleanup_leftovers, leftovers_possible

__all__ = ["IMAGE_VARIABLE", "LABEL", "LABEL_JOB_ID", "OWNERS_VARIABLE", "OWNER_VARIABLE", "CleanupReport", "DockerBackend",
           "cleanup_leftovers", "docker_available", "docker_client", "leftovers_possible", "output_owner"]
