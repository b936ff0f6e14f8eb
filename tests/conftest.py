"""Shared fixtures. Each section belongs to one area; keep sections small and separate."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Session

# --- core SDK ---------------------------------------------------------------------------------------------


@pytest.fixture
def sdk_session(tmp_path: Path) -> Session:
    """A local Session whose runs go under the test's tmp_path, without echoing job output."""
    return Session(local_root=tmp_path / "runs-root", stream_logs=False, stop_grace_period=1.0)


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    """A code directory with a trivial boot file ``train.py``."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--data_url'); p.add_argument('--train_url')\n"
        "a, _ = p.parse_known_args()\n"
        "print('trained')\n"
    )
    return code
