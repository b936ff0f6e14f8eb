"""A local package index of stand-ins for the preset engines' frameworks, so that engine jobs run here.

A real framework from PyPI is gigabytes (torch's CUDA wheels), and a conda channel on the internet may be
unreachable. What an engine job's environment must prove is that the engine's pins are what gets installed, on the
engine's Python: a small pure-Python wheel named as the framework, at the catalog's version, whose module says its
version (``torch.__version__ == "1.8.0"``), does that. The index is a PEP 503 ``simple/`` tree of ``file://`` links,
given to uv as ``UV_INDEX``: uv's first-index strategy takes a package it has from it, everything else from the
default index (PyPI), so a stand-in never hides a package and a real framework is never downloaded.

Fixtures (import them into a conftest):

``engine_index``
    session-scoped path of the index's ``simple/`` folder (stand-ins of every catalog row's packages).
``use_engine_index``
    sets ``UV_INDEX`` to it for one test, and needs the local interpreters the engines run (``missing`` otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_modelarts.core import engines
from tests.support.requirements import missing

#: the engines' Pythons come from local interpreters (pyenv's): conda channels may be unreachable
PYTHON_SOURCE = "local"
#: packages of the catalog that other tests install for real from PyPI: a stand-in would hide PyPI's versions of
#: them (uv takes a package only from the first index that has it)
REAL_ELSEWHERE = frozenset({"scikit-learn"})


def stand_in_wheel(folder: Path, name: str, version: str) -> Path:
    """A pure-Python wheel ``<name>-<version>-py2.py3-none-any.whl`` whose module says ``__version__``."""
    module = re.sub(r"[^A-Za-z0-9_]", "_", {"scikit-learn": "sklearn"}.get(name, name))
    dist = f"{name.replace('-', '_')}-{version}"
    files = {f"{module}/__init__.py": f"__version__ = {version!r}\nSTAND_IN = True\n".encode(),
             f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n"}
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for path, data in files.items()]
    wheel = folder / f"{dist}-py2.py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
        zf.writestr(zipfile.ZipInfo(f"{dist}.dist-info/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(record) + f"\n{dist}.dist-info/RECORD,,\n")
    return wheel


def build_index(root: Path) -> Path:
    """Stand-ins of every catalog row's packages under ``root``; returns the ``simple/`` folder."""
    files, simple = root / "files", root / "simple"
    files.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list[Path]] = {}
    for engine in engines.catalog():
        for pin in engine.packages:
            name, _, version = pin.partition("==")
            if name in REAL_ELSEWHERE:
                continue
            by_name.setdefault(name, [])
            wheel = stand_in_wheel(files, name, version)
            if wheel not in by_name[name]:
                by_name[name].append(wheel)
    for name, wheels in by_name.items():
        page = simple / name
        page.mkdir(parents=True, exist_ok=True)
        links = "".join(f'<a href="{w.as_uri()}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
                        for w in wheels)
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    return simple


@pytest.fixture(scope="session")
def engine_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("engine-index"))


def engine_pythons_present() -> None:
    """Skip (or fail, where required) without a local interpreter of each engine's Python."""
    from pytest_modelarts.envs.interpreters import select_interpreter
    from pytest_modelarts.errors import EnvError

    for version in sorted({e.python for e in engines.catalog() if e.local_problem is None and e.python.startswith("3.7")}):
        try:
            select_interpreter(f"{version}.*")
        except EnvError as exc:
            missing("engine-python", f"the PyTorch engine runs Python {version}, which no local interpreter provides "
                    f"(pyenv install {version}): {str(exc).splitlines()[0]}")


@pytest.fixture
def use_engine_index(engine_index: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """uv takes the engines' frameworks from the stand-in index in this test."""
    engine_pythons_present()
    monkeypatch.setenv("UV_INDEX", engine_index.as_uri())
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", PYTHON_SOURCE)
    yield engine_index
