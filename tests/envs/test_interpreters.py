"""Interpreter discovery: read from where interpreters live, never by running a shim, each asked once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_modelarts.envs import interpreters
from pytest_modelarts.envs.interpreters import find_interpreters, select_interpreter

BASE = Path(getattr(sys, "_base_executable", sys.executable)).resolve()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache dir, a pyenv root and a home of the test's own; no conda environment, no extra interpreters."""
    monkeypatch.setenv("PYTEST_MODELARTS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    for name in ("CONDA_PREFIX", "PYTEST_MODELARTS_PYTHONS", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_shim_is_never_run_and_managed_versions_are_found(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = home / "shim-was-run"
    shims = home / "pyenv" / "shims"
    shims.mkdir(parents=True)
    for name in ("python3.11", "python3", "python"):  # what pyenv's shims are: scripts that pick a version when run
        (shims / name).write_text(f"#!/bin/sh\necho {name} >> {marker}\nexec {BASE} \"$@\"\n")
        (shims / name).chmod(0o755)
    version = "%d.%d.%d" % sys.version_info[:3]
    managed = home / "pyenv" / "versions" / version / "bin"
    managed.mkdir(parents=True)
    (managed / f"python{sys.version_info[0]}.{sys.version_info[1]}").symlink_to(BASE)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}/nonexistent")
    monkeypatch.setattr(sys, "_base_executable", str(shims / "python3"), raising=False)
    monkeypatch.setattr(sys, "executable", str(shims / "python"))
    found = find_interpreters()
    assert not marker.exists(), marker.read_text()
    assert [i.path for i in found] == [BASE]  # found in pyenv's versions, once, at its real path
    assert found[0].version == version and found[0].implementation == "cpython"
    minor = "%d.%d" % sys.version_info[:2]
    assert select_interpreter(f"{minor}.*", minor=minor).path == BASE
    assert not marker.exists()


def test_each_interpreter_is_asked_once_by_path_and_mtime(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = home / "bin"
    bindir.mkdir()
    copy = bindir / "python3"
    copy.symlink_to(BASE)
    monkeypatch.setenv("PATH", str(bindir))
    asked: list[str] = []
    real_run = subprocess.run

    def counting_run(argv: list[str], **kwargs: object) -> object:
        asked.append(argv[0])
        return real_run(argv, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(interpreters.subprocess, "run", counting_run)
    first = find_interpreters()
    assert asked and BASE in [i.path for i in first]
    assert (home / "cache" / "interpreters.json").is_file()
    asked.clear()
    assert find_interpreters() == first and asked == []  # the answers come from the cache: nothing is run
    # a binary replaced in place (another mtime) is asked again
    st = os.stat(BASE)
    cache = (home / "cache" / "interpreters.json").read_text().replace(str(st.st_mtime_ns), str(st.st_mtime_ns - 1))
    (home / "cache" / "interpreters.json").write_text(cache)
    assert find_interpreters() == first and asked == [str(BASE)]


def test_an_interpreter_listed_by_the_user_is_asked_even_as_a_script(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = home / "my-python"
    wrapper.write_text(f"#!/bin/sh\nexec {BASE} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHONS", str(wrapper))
    monkeypatch.setattr(sys, "_base_executable", str(wrapper), raising=False)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    assert [i.path for i in find_interpreters()] == [wrapper]
