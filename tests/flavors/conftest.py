"""Flavors as resources: the catalog, its checks, and the limits local runs carry out.

``hog.py`` allocates ``--mib`` MiB (touching every page, so the memory is really used) and prints what the node
shows of its CPUs: ``nproc`` (where the image has it), the affinity and ``MA_NUM_GPUS``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session
from pytest_modelarts.backends.local.limits import hierarchy
from tests.docker.conftest import docker_client, python_image  # noqa: F401 - the Docker backend's fixtures
from tests.support.requirements import missing

CODE = Path(__file__).parent / "code"


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1)


@pytest.fixture
def cgroups() -> None:
    """Memory limits of local nodes need control groups this process may write (cgroup v1 as root, or v2 delegated)."""
    found = hierarchy()
    if not found.version:
        missing("cgroups", f"local memory limits need writable control groups: {found.why_not}")
