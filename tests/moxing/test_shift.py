"""``mox.file.shift('os', 'mox')``: the standard calls take OBS URLs; ``shift('mox', 'os')`` puts them back."""

from __future__ import annotations

import builtins
import glob
import os
import shutil
from pathlib import Path
from types import ModuleType

from .conftest import Place


def test_shifted_standard_calls_take_obs_urls(mox: ModuleType, obs_root: Path, tmp_path: Path) -> None:
    originals = (builtins.open, os.listdir, os.path.exists, glob.glob, shutil.copytree)
    mox.file.shift("os", "mox")
    mox.file.shift("os", "mox")  # twice: still one layer
    base = "obs://my-bucket/run"
    with open(f"{base}/logs/out.txt", "w") as f:  # the folders of the key are made
        f.write("line\n")
    with open(f"{base}/logs/out.txt", encoding="utf-8") as f:
        assert f.read() == "line\n"
    assert (obs_root / "my-bucket" / "run" / "logs" / "out.txt").exists()
    os.makedirs(f"{base}/models/v1", exist_ok=True)
    os.mkdir(f"{base}/models/v2")
    assert os.listdir(base) == ["logs", "models"]
    assert os.path.exists(f"{base}/logs/out.txt") and os.path.isfile(f"{base}/logs/out.txt") and os.path.isdir(f"{base}/models")
    assert os.path.getsize(f"{base}/logs/out.txt") == 5 and os.stat(f"{base}/logs/out.txt").st_size == 5
    assert glob.glob(f"{base}/models/*") == [f"{base}/models/v1", f"{base}/models/v2"]
    assert [top for top, _, _ in os.walk(f"{base}/models")] == [f"{base}/models", f"{base}/models/v1", f"{base}/models/v2"]
    with os.scandir(base) as entries:
        assert sorted(e.path for e in entries) == [f"{base}/logs", f"{base}/models"]
    shutil.copyfile(f"{base}/logs/out.txt", str(tmp_path / "local.txt"))
    shutil.copy(str(tmp_path / "local.txt"), f"{base}/models/v1")
    assert os.path.exists(f"{base}/models/v1/local.txt")
    shutil.copytree(f"{base}/models", str(tmp_path / "models"))
    assert (tmp_path / "models" / "v1" / "local.txt").exists()
    os.rename(f"{base}/logs/out.txt", f"{base}/logs/renamed.txt")
    os.remove(f"{base}/logs/renamed.txt")
    os.rmdir(f"{base}/models/v2")
    shutil.rmtree(f"{base}/models")
    assert os.listdir(base) == ["logs"]
    # local paths are untouched
    assert sorted(os.listdir(tmp_path / "models")) == ["v1", "v2"] and os.path.exists(str(tmp_path))
    mox.file.shift("mox", "os")
    assert (builtins.open, os.listdir, os.path.exists, glob.glob, shutil.copytree) == originals
    assert not os.path.exists(f"{base}/logs")


def test_shift_on_local_places_changes_nothing(mox: ModuleType, tree: Place) -> None:
    mox.file.shift("os", "mox")
    if tree.remote:
        assert sorted(os.listdir(tree.url())) == ["a.txt", "empty", "sub"]
    assert sorted(os.listdir(tree.folder)) == ["a.txt", "empty", "sub"]
    with open(tree.path("a.txt")) as f:
        assert f.read() == "alpha"


def test_the_patched_calls_are_the_documented_ones(mox: ModuleType) -> None:
    from moxing import _shift

    prefix = {builtins: "", os: "os.", os.path: "os.path.", glob: "glob.", shutil: "shutil."}
    assert [prefix[module] + name for module, name, _ in _shift._patches()] == list(_shift.PATCHED)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "moxing.md").read_text(encoding="utf-8")
    paragraph = docs.split("After `mox.file.shift('os', 'mox')` these take `obs://`/`s3://` URLs too: ", 1)[1].split(". A URL", 1)[0]
    assert [name.strip().strip("`") for name in paragraph.split(",")] == list(_shift.PATCHED)
