"""The ``docker`` backend: custom-image jobs, and any local job with ``backend="docker"``, in Docker containers.

Modules: :mod:`.backend` (the backend and the container spec of each worker, the decisions of docs/containers.md),
:mod:`.execution` (running, following and removing a job's containers), :mod:`.owners` (labels, owner notes,
clean-up of dead runs' leftovers), :mod:`.files` (output ownership), :mod:`.pause` (the offline namespace holder),
:mod:`.client` (the daemon).
"""
