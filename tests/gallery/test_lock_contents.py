"""A lock's contents are checked against its spec, not only its recorded spec hash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies
from pytest_modelarts.envs.lock import lock_environment, read_lock
from pytest_modelarts.errors import LockError
from tests.envs.conftest import cache_dir, full_env, shared_package_cache  # noqa: F401  (fixtures)
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)


@pytest.fixture
def locked(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> tuple[CondaDependencies, Path]:  # noqa: F811
    spec = full_env(conda_channel).conda
    path = tmp_path / "e.conda-lock.yml"
    lock_environment(spec, path, "create", cache_dir=cache_dir)
    return spec, path


def _drop_package(text: str, name: str) -> str:
    blocks = re.split(r"(?m)^(?=- name: )", text)
    return "".join(b for b in blocks if not b.startswith(f"- name: {name}\n"))


EDITS = {
    "a package removed": lambda t: _drop_package(t, "six"),
    "a version edited": lambda t: t.replace("version: 1.16.0", "version: 1.17.0"),
    "format version 99": lambda t: t.replace("\nversion: 1\n", "\nversion: 99\n"),
    "a foreign platform": lambda t: t.replace("- linux-64\n", "- osx-arm64\n"),
    "a foreign python-version": lambda t: t.replace("pytest-modelarts.python-version: '3.11'", "pytest-modelarts.python-version: '3.9'"),
}


@pytest.mark.parametrize("mode", ["check", "create"])
@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_lock_is_refused_naming_the_file_and_the_fix(locked, cache_dir, edit, mode) -> None:  # noqa: F811
    spec, path = locked
    path.write_text(EDITS[edit](path.read_text()))
    with pytest.raises(LockError, match=rf"{re.escape(str(path))}.*lock-mode=update"):
        lock_environment(spec, path, mode, cache_dir=cache_dir)


def test_a_lock_without_a_content_hash_is_still_checked_against_the_spec(locked, cache_dir) -> None:  # noqa: F811
    spec, path = locked
    text = re.sub(r"(?m)^    pytest-modelarts\.content-hash: .*\n", "", path.read_text())  # a lock of an older version
    path.write_text(text)
    assert read_lock(path) is not None and lock_environment(spec, path, "check", cache_dir=cache_dir)
    path.write_text(_drop_package(text, "six"))
    with pytest.raises(LockError, match="pip package 'six' of the spec is not in the lock"):
        lock_environment(spec, path, "check", cache_dir=cache_dir)
    path.write_text(text.replace("version: 1.16.0", "version: 1.17.0"))
    with pytest.raises(LockError, match="six is locked at 1.17.0, which the spec's 'six==1.16.0' does not allow"):
        lock_environment(spec, path, "check", cache_dir=cache_dir)
