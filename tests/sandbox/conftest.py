"""Sandboxed nodes need bubblewrap, util-linux and iproute2, and user namespaces: skipped without (failed where CI
requires them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session
from tests.support.requirements import require_sandbox

CODE = Path(__file__).parent / "code"


@pytest.fixture(autouse=True)
def _nodes_available() -> None:
    require_sandbox()


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
