"""A lock installs only what follows from its spec: a package added to the lock by hand (with a valid URL and hash,
and the lock's content hash made to match) is refused before anything is built, for pip and conda packages alike.

Real locks: conda packages from the local test channel, pip packages resolved by uv against PyPI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pytest_modelarts import CondaDependencies
from pytest_modelarts.envs.lock import lock_environment, read_lock
from pytest_modelarts.envs.lockfile import META, content_hash
from pytest_modelarts.errors import LockError
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)


@pytest.fixture
def pkgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_MODELARTS_PKGS_DIR", str(tmp_path / "pkgs"))
    monkeypatch.delenv("PYTEST_MODELARTS_PYTHON", raising=False)
    return tmp_path / "pkgs"


def spec(channel: LocalChannel) -> CondaDependencies:
    return CondaDependencies.create(channels=[channel.url], conda_packages=["python=3.11", "minipy"],
                                    pip_packages=["requests==2.32.3"])


def add_by_hand(lock: Path, manager: str, copy_of: str, name: str) -> None:
    """Append a package to the lock: a copy of ``copy_of``'s entry (a valid URL and hash) under ``name``, and make
    the lock's content hash match again, as a careful hand edit would."""
    data = yaml.safe_load(lock.read_text())
    entry = next(p for p in data["package"] if p["manager"] == manager and p["name"] == copy_of)
    data["package"].append({**entry, "name": name})
    lock.write_text(yaml.safe_dump(data, sort_keys=False))
    locked = read_lock(lock)
    assert locked is not None
    text = lock.read_text()
    lock.write_text(re.sub(rf"({re.escape(META)}content-hash: )\w+", rf"\g<1>{content_hash(locked)}", text))


def test_a_fresh_lock_follows_from_its_spec(conda_channel: LocalChannel, tmp_path: Path, pkgs: Path) -> None:  # noqa: F811
    lock = tmp_path / "e.conda-lock.yml"
    locked = lock_environment(spec(conda_channel), lock, "create", cache_dir=tmp_path / "cache")
    assert {p.name for p in locked.pip} >= {"requests", "idna", "certifi", "urllib3", "charset-normalizer"}
    assert locked.pip_graph and "idna" in locked.dependencies["pip:requests"]
    again = lock_environment(spec(conda_channel), lock, "check", cache_dir=tmp_path / "cache")
    assert again.key == locked.key  # its own dependencies all follow from the spec


@pytest.mark.parametrize("manager, copy_of, name", [("pip", "idna", "evil-idna"), ("conda", "minipy", "mini-tool")])
def test_a_package_added_by_hand_is_refused(conda_channel: LocalChannel, tmp_path: Path, pkgs: Path,  # noqa: F811
                                            manager: str, copy_of: str, name: str) -> None:
    lock = tmp_path / "e.conda-lock.yml"
    lock_environment(spec(conda_channel), lock, "create", cache_dir=tmp_path / "cache")
    add_by_hand(lock, manager, copy_of, name)
    with pytest.raises(LockError, match=rf"{manager} package '{name}' follows from no package of the spec"):
        lock_environment(spec(conda_channel), lock, "create", cache_dir=tmp_path / "cache")
