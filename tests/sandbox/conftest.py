"""Sandboxed nodes need bubblewrap, util-linux and iproute2, and user namespaces: skipped without (failed where CI
requires them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session
from pytest_modelarts.backends.local.nodes import unavailable
from tests.support.requirements import missing

CODE = Path(__file__).parent / "code"


@pytest.fixture(autouse=True)
def _nodes_available() -> None:
    why = unavailable()
    if why is not None:
        missing("sandbox", f"sandboxed nodes are unavailable here: {why}")


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
