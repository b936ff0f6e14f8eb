from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session

CODE = Path(__file__).parent / "code"


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1)
