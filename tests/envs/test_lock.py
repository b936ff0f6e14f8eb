"""Locking: conda-lock's format, modes, and errors that name the offending spec."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
from pathlib import Path

import pytest
from conda_lock.lockfile import parse_conda_lock_file

from pytest_modelarts import CondaDependencies
from pytest_modelarts.envs.lock import lock_environment
from pytest_modelarts.errors import LockError
from tests.support.conda_channel import LocalChannel, make_package

from .conftest import full_env


def test_lock_is_conda_lock_format(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    env = full_env(conda_channel)
    path = tmp_path / "full.conda-lock.yml"
    locked = lock_environment(env.conda, path, "create", cache_dir=cache_dir)
    assert locked.written
    parsed = parse_conda_lock_file(path)
    by_name = {p.name: p for p in parsed.package}
    assert by_name["python"].manager == "conda" and by_name["python"].version == conda_channel.python_version
    assert by_name["mini-lib"].version == "1.1"  # highest that satisfies mini-tool's "mini-lib >=1.0"
    assert by_name["mini-tool"].dependencies == {"mini-lib": ">=1.0"}
    six = by_name["six"]
    assert six.manager == "pip" and six.version == "1.16.0" and six.url.endswith(".whl") and len(six.hash.sha256) == 64
    assert all(p.hash.md5 for p in parsed.package if p.manager == "conda")
    assert parsed.metadata.platforms == [locked.platform]


def test_unchanged_spec_keeps_the_lock(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "e.conda-lock.yml"
    first = lock_environment(full_env(conda_channel).conda, path, "create", cache_dir=cache_dir)
    before = path.read_bytes()
    again = lock_environment(full_env(conda_channel).conda, path, "create", cache_dir=cache_dir)
    assert not again.written and again.key == first.key and path.read_bytes() == before
    # re-solving the same spec against the same channel gives the same bytes (no timestamps in the lock)
    updated = lock_environment(full_env(conda_channel).conda, path, "update", cache_dir=cache_dir)
    assert updated.written and updated.key == first.key and path.read_bytes() == before


def test_check_mode_fails_on_missing_and_stale_lock(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    path = tmp_path / "e.conda-lock.yml"
    spec = CondaDependencies.create(channels=[conda_channel.url], conda_packages=["python=3.11"])
    with pytest.raises(LockError, match="missing"):
        lock_environment(spec, path, "check", cache_dir=cache_dir)
    assert not path.exists()
    lock_environment(spec, path, "create", cache_dir=cache_dir)
    assert lock_environment(spec, path, "check", cache_dir=cache_dir).key  # up to date: fine
    before = path.read_bytes()
    changed = CondaDependencies.create(channels=[conda_channel.url], conda_packages=["python=3.11", "mini-tool"])
    with pytest.raises(LockError, match=r"stale.*conda_packages added \['mini-tool'\].*lock_mode='update'"):
        lock_environment(changed, path, "check", cache_dir=cache_dir)
    assert path.read_bytes() == before  # never silently re-locked
    # create mode re-locks a stale lock
    assert lock_environment(changed, path, "create", cache_dir=cache_dir).written


def _copy_channel(src: Path, dst: Path, exclude: str) -> Path:
    shutil.copytree(src, dst, copy_function=os.link, ignore=shutil.ignore_patterns(exclude, "repodata*", ".tmp"))
    return dst


def _index(channel: Path) -> None:
    import asyncio

    from rattler.index import index_fs

    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def test_update_mode_re_solves(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    channel = _copy_channel(conda_channel.path, tmp_path / "channel", "mini-lib-1.1-*")
    _index(channel)
    spec = CondaDependencies.create(channels=[channel.as_uri()], conda_packages=["python=3.11", "mini-lib"])
    path = tmp_path / "e.conda-lock.yml"
    old = lock_environment(spec, path, "create", cache_dir=cache_dir)
    assert {p.name: p.version for p in old.conda}["mini-lib"] == "1.0"
    make_package(channel / "noarch", "mini-lib", "1.1", files={"share/mini-lib/VERSION": b"1.1\n"})
    _index(channel)
    kept = lock_environment(spec, path, "create", cache_dir=cache_dir)  # the lock pins: no drift
    assert not kept.written and {p.name: p.version for p in kept.conda}["mini-lib"] == "1.0"
    new = lock_environment(spec, path, "update", cache_dir=cache_dir)
    assert new.written and {p.name: p.version for p in new.conda}["mini-lib"] == "1.1"
    assert new.key != old.key


def test_unsatisfiable_conda_spec(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    spec = CondaDependencies.create(channels=[conda_channel.url], conda_packages=["python=3.11", "mini-lib>=5"])
    with pytest.raises(LockError) as info:
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir)
    message = str(info.value)
    assert "mini-lib>=5" in message and "cannot be solved" in message
    assert "mini-lib" in message.split("\n", 1)[1]  # the solver's explanation follows
    assert not (tmp_path / "e.conda-lock.yml").exists()


def test_unknown_pip_package(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    name = "pytest-modelarts-no-such-package-zq"
    spec = CondaDependencies.create(channels=[conda_channel.url], conda_packages=["python=3.11"], pip_packages=["six", name])
    with pytest.raises(LockError, match=rf"pip package\(s\) \['{name}'\] \(unknown to the package index\)"):
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir)


def test_unreachable_channel(tmp_path: Path, cache_dir: Path) -> None:
    missing = (tmp_path / "no-channel").as_uri()
    spec = CondaDependencies.create(channels=[missing], conda_packages=["python=3.11"])
    with pytest.raises(LockError, match="conda channel .*no-channel.* cannot be"):
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir)


@pytest.mark.parametrize("channel", ["file:///nonexistent/channel", "http://127.0.0.1:9/channel"])
def test_unreachable_channel_for_python_alone_names_the_local_interpreters_that_serve(
        channel: str, tmp_path: Path, cache_dir: Path) -> None:
    """Only python asked of conda, and conda cannot be reached: the error says a local interpreter can serve it,
    how to choose it, and which ones on this machine do (the running one among them)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    spec = CondaDependencies.create(channels=[channel], conda_packages=[f"python={version}"], pip_packages=[])
    with pytest.raises(LockError) as caught:
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir)
    message = str(caught.value)
    assert "conda channel" in message and "cannot be" in message and channel in message
    assert "a local interpreter can serve it" in message
    assert "PYTEST_MODELARTS_PYTHON=local" in message and "python_source='local'" in message
    listed = [line.removeprefix("  - ") for line in message.splitlines() if line.startswith("  - ")]
    assert listed and all(re.fullmatch(rf"cpython {re.escape(version)}\.\d+\S* at /\S+", line) for line in listed), listed
    assert any(line.startswith(f"cpython {platform.python_version()} at ") for line in listed), listed  # the running one
    assert not (tmp_path / "e.conda-lock.yml").exists()
    # what it suggests works: the same spec locks with the local interpreter, no channel read
    locked = lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir, python_source="local")
    assert locked.written


def test_unreachable_channel_with_other_conda_packages_does_not_suggest_a_local_interpreter(
        tmp_path: Path, cache_dir: Path) -> None:
    spec = CondaDependencies.create(channels=["http://127.0.0.1:9/channel"], conda_packages=["python=3.11", "numpy"])
    with pytest.raises(LockError, match="conda channel .* cannot be") as caught:
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir)
    assert "local interpreter" not in str(caught.value) and "PYTEST_MODELARTS_PYTHON" not in str(caught.value)


def test_local_python_mismatch_lists_interpreters(tmp_path: Path, cache_dir: Path) -> None:
    spec = CondaDependencies.create(conda_packages=["python=3.6.2"], pip_packages=["six"])
    with pytest.raises(Exception, match=r"(?s)no local interpreter satisfies python 3\.6\.2.*interpreters found:.*cpython 3\.\d+.*Provide one"):
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir, python_source="local")


def test_local_python_refuses_other_conda_packages(tmp_path: Path, cache_dir: Path) -> None:
    spec = CondaDependencies.create(conda_packages=["python=3.11", "numpy"])
    with pytest.raises(LockError, match=r"only environments whose conda_packages pin just python.*\['numpy'\]"):
        lock_environment(spec, tmp_path / "e.conda-lock.yml", "create", cache_dir=cache_dir, python_source="local")


def test_this_machines_platform_is_the_one_rattler_names() -> None:
    """current_platform() answers the common machines from a table, without importing rattler (~25 ms a run)."""
    from rattler import Subdir

    from pytest_modelarts.envs.lockfile import current_platform

    assert current_platform() == str(Subdir.current())
