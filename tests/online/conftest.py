"""Online backend, emulator and promotion: every test talks to the emulator over HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts.core import engines
from tests.support.engines import build_index

FLAVOR = "modelarts.vm.cpu.2u"
#: cpu.2u runs one node (its max_num is 1): a multi-node job takes cpu.8u
MULTI_NODE_FLAVOR = "modelarts.vm.cpu.8u"
#: the engine of the tests' online jobs (ModelArts requires one for a boot file)
PYTORCH = engines.find("PyTorch", None).engine_id

TRAIN = """\
import argparse, os, pathlib, sys
p = argparse.ArgumentParser()
p.add_argument('--data_url'); p.add_argument('--train_url'); p.add_argument('--epochs', default='1')
a, _ = p.parse_known_args()
print('epochs', a.epochs, 'data', sorted(os.listdir(a.data_url)))
pathlib.Path(a.train_url, 'model.txt').write_text('trained ' + a.epochs)
if os.environ.get('VC_TASK_INDEX', '0') == '0' and a.epochs == 'fail':
    print('boom', file=sys.stderr); sys.exit(3)
"""


@pytest.fixture(scope="session")
def stand_in_frameworks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("engine-index"))


@pytest.fixture(autouse=True)
def _engine_frameworks(stand_in_frameworks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # online boot-file jobs run on a preset engine (ModelArts requires one); a local run of one takes the engine's
    # framework from the stand-in index (tests/support/engines.py) and its Python from a local interpreter
    monkeypatch.setenv("UV_INDEX", stand_in_frameworks.as_uri())
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # faults are retried within a bounded number of attempts; keep the read timeout short for "slow" faults
    monkeypatch.setenv("PYTEST_MODELARTS_HTTP_TIMEOUT", "5")


@pytest.fixture
def online_code(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(TRAIN)
    return code


@pytest.fixture
def online_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    return data
