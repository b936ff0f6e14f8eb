"""A built environment is its own: its files are copies (no link into uv's or rattler's package cache), read-only,
and recorded; an edit of one environment changes no environment built later, and a damaged one is rebuilt.

Real builds: conda packages from the local test channel, six from PyPI through uv.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from pytest_modelarts.envs.build import BuiltEnvironment, ensure_environment
from pytest_modelarts.envs.cache import EnvCache
from tests.envs.conftest import full_env
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)


@pytest.fixture
def pkgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One rattler package cache for the builds of a test (as a session shares one between cache dirs)."""
    folder = tmp_path / "pkgs"
    monkeypatch.setenv("PYTEST_MODELARTS_PKGS_DIR", str(folder))
    monkeypatch.delenv("PYTEST_MODELARTS_PYTHON", raising=False)
    return folder


def site_packages(built: BuiltEnvironment) -> Path:
    """Where the conda packages went (the conda layout's site-packages)."""
    return next(built.prefix.glob("lib/python3.*/site-packages"))


def pip_site(built: BuiltEnvironment) -> Path:
    """Where uv installed the pip packages: the folder of six's dist-info (Debian's python: local/.../dist-packages)."""
    return next(built.prefix.rglob("six-1.16.0.dist-info")).parent


def wheel_record_mismatches(built: BuiltEnvironment, dist_info: str) -> list[str]:
    """The files of an installed wheel whose bytes differ from its RECORD's sha256 (empty: byte-identical)."""
    site = pip_site(built)
    wrong = []
    for line in (site / dist_info / "RECORD").read_text().splitlines():
        path, digest, _size = line.rsplit(",", 2)
        if not digest:  # RECORD itself, and files the installer wrote (INSTALLER, REQUESTED)
            continue
        algorithm, expected = digest.split("=", 1)
        data = (site / path).read_bytes()
        actual = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()
        if actual != expected:
            wrong.append(path)
    return wrong


def conda_mismatches(built: BuiltEnvironment, pkgs: Path, package: str) -> list[str]:
    """The files of an installed conda package whose bytes differ from its archive's info/paths.json sha256."""
    extracted = next(d for d in pkgs.iterdir() if d.is_dir() and d.name.startswith(package + "-"))
    wrong, checked = [], 0
    for entry in json.loads((extracted / "info" / "paths.json").read_text())["paths"]:
        if entry.get("path_type") == "hardlink" and "sha256" in entry and entry.get("file_mode") != "text":
            rel = entry["_path"]  # a noarch python package's site-packages/ is the python's
            installed = (site_packages(built) / rel.split("/", 1)[1] if rel.startswith("site-packages/")
                         else built.prefix / rel)
            if hashlib.sha256(installed.read_bytes()).hexdigest() != entry["sha256"]:
                wrong.append(entry["_path"])
            checked += 1
    assert checked, f"no file of {package} to check"
    return wrong


def edit_in_place(path: Path) -> None:
    """What a careless tool does: opens the file for writing (past its read-only mode) and changes its bytes."""
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    with open(path, "r+b") as fh:
        fh.seek(0)
        fh.write(b"raise SystemExit('poisoned')\n#")


def test_an_edit_of_one_environment_reaches_no_environment_built_later(
        conda_channel: LocalChannel, tmp_path: Path, pkgs: Path) -> None:  # noqa: F811
    first = ensure_environment(full_env(conda_channel, "first"), cache_dir=tmp_path / "cache-1",
                               lock_path=tmp_path / "first.conda-lock.yml")
    six = pip_site(first) / "six.py"
    minipy = next(site_packages(first).glob("minipy*"))
    minipy_file = minipy if minipy.is_file() else next(p for p in minipy.rglob("*.py"))
    assert six.stat().st_nlink == 1 and minipy_file.stat().st_nlink == 1  # copies, not links into a cache
    edit_in_place(six)
    edit_in_place(minipy_file)
    # another spec, a fresh cache folder; the same uv cache and conda package cache
    second = ensure_environment(full_env(conda_channel, "second", conda_packages=["python=3.11", "minipy"]),
                                cache_dir=tmp_path / "cache-2", lock_path=tmp_path / "second.conda-lock.yml")
    assert second.built and second.prefix != first.prefix
    assert wheel_record_mismatches(second, "six-1.16.0.dist-info") == []
    assert conda_mismatches(second, pkgs, "minipy") == []
    assert wheel_record_mismatches(first, "six-1.16.0.dist-info") == ["six.py"]  # the edit was real


@pytest.mark.parametrize("damage", ["edited", "deleted", "added"])
def test_a_damaged_environment_is_found_from_its_record_and_rebuilt(
        conda_channel: LocalChannel, tmp_path: Path, pkgs: Path, damage: str) -> None:  # noqa: F811
    env, lock, cache = full_env(conda_channel), tmp_path / "e.conda-lock.yml", tmp_path / "cache"
    built = ensure_environment(env, cache_dir=cache, lock_path=lock)
    six = pip_site(built) / "six.py"
    if damage == "edited":
        edit_in_place(six)
    elif damage == "deleted":
        six.unlink()
    else:
        (site_packages(built) / "sitecustomize.py").write_text("print('planted')\n")
    again = ensure_environment(env, cache_dir=cache, lock_path=lock)
    assert again.built and again.prefix == built.prefix, "the damaged environment was reused"
    assert wheel_record_mismatches(again, "six-1.16.0.dist-info") == []
    assert not (site_packages(again) / "sitecustomize.py").exists()
    assert len(EnvCache(cache).builds()) >= 1
    third = ensure_environment(env, cache_dir=cache, lock_path=lock)
    assert not third.built  # the rebuilt one is intact: reused


def test_an_environments_files_are_read_only(conda_channel: LocalChannel, tmp_path: Path, pkgs: Path) -> None:  # noqa: F811
    built = ensure_environment(full_env(conda_channel), cache_dir=tmp_path / "cache",
                               lock_path=tmp_path / "e.conda-lock.yml")
    writable = [str(p) for p in built.prefix.rglob("*")
                if p.is_file() and not p.is_symlink() and not p.name.startswith(".pytest-modelarts-")
                and p.stat().st_mode & 0o222]
    assert writable == []
    assert os.access(built.prefix, os.W_OK)  # its folders are not: the cache's gc removes it
