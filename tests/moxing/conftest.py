"""The local moxing (``pytest_modelarts/job_site/moxing``), imported as a job imports it: ``job_site`` on ``sys.path``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

JOB_SITE = Path(__file__).resolve().parents[2] / "pytest_modelarts" / "job_site"
ENV_VARIABLE = "PYTEST_MODELARTS_LOCAL_OBS"


def drop_moxing() -> None:
    for name in [n for n in sys.modules if n == "moxing" or n.startswith("moxing.")]:
        del sys.modules[name]


@pytest.fixture
def mox() -> Iterator[ModuleType]:
    """``import moxing as mox`` with ``job_site`` on ``sys.path``; afterwards no shift, no path entry, no moxing modules."""
    drop_moxing()
    sys.path.insert(0, str(JOB_SITE))
    try:
        import moxing

        yield moxing
    finally:
        if "moxing.file" in sys.modules:
            sys.modules["moxing.file"].shift("mox", "os")
        sys.path.remove(str(JOB_SITE))
        drop_moxing()


@pytest.fixture
def obs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local OBS whose buckets are folders below ``<tmp>/obs``, and one bucket ``data-bkt`` mapped to ``<tmp>/mapped``."""
    root = tmp_path / "obs"
    root.mkdir()
    (tmp_path / "mapped").mkdir()
    monkeypatch.setenv(ENV_VARIABLE, json.dumps({"root": str(root), "buckets": {"data-bkt": str(tmp_path / "mapped")}}))
    return root


@dataclass
class Place:
    """Where a test works: ``url(rel)`` as the job writes it, ``path(rel)`` where it lands on this machine."""

    base_url: str
    folder: Path

    @property
    def remote(self) -> bool:
        return "://" in self.base_url

    def url(self, rel: str = "") -> str:
        return f"{self.base_url}/{rel}" if rel else self.base_url

    def path(self, rel: str = "") -> Path:
        return self.folder / rel if rel else self.folder


@pytest.fixture(params=["local", "obs", "s3", "mapped-bucket"])
def place(request: pytest.FixtureRequest, tmp_path: Path, obs_root: Path) -> Place:
    """The same calls on a local path, an obs:// and an s3:// URL into the root, and a URL into a mapped bucket."""
    found = {
        "local": Place(str(tmp_path / "local"), tmp_path / "local"),
        "obs": Place("obs://my-bucket/base", obs_root / "my-bucket" / "base"),
        "s3": Place("s3://my-bucket/base", obs_root / "my-bucket" / "base"),
        "mapped-bucket": Place("obs://data-bkt/base", tmp_path / "mapped" / "base"),
    }[request.param]
    found.folder.mkdir(parents=True)
    return found


@pytest.fixture
def tree(place: Place) -> Place:
    """``place`` holding a.txt, sub/b.bin, sub/deep/c.txt and an empty folder empty/."""
    (place.path("sub/deep")).mkdir(parents=True)
    (place.path("empty")).mkdir()
    place.path("a.txt").write_text("alpha")
    place.path("sub/b.bin").write_bytes(b"\x00\x01\x02")
    place.path("sub/deep/c.txt").write_text("gamma!")
    return place
