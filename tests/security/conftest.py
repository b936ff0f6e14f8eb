"""The security tests run real jobs in real sandboxed nodes: skipped without them (failed where CI requires them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.requirements import missing, require_sandbox

CODE = Path(__file__).parent / "code"


@pytest.fixture(autouse=True)
def _nodes_available() -> None:
    require_sandbox()


@pytest.fixture
def outside_home_and_tmp() -> Iterator[Path]:
    """A folder of the host outside /home and /tmp (under /srv, as a CI runner's builds are): what a node used to
    show whole, since only /home and /tmp were left out."""
    if not os.access("/srv", os.W_OK):
        missing("root", "the host's /srv is not writable here: the tests of what a node hides under /srv need it")
    folder = Path(tempfile.mkdtemp(prefix="pytest-modelarts-security-", dir="/srv"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
