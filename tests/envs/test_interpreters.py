"""Interpreter discovery: read from where interpreters live, never by running a shim, each asked once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_modelarts.envs import interpreters
from pytest_modelarts.envs.interpreters import find_interpreters, select_interpreter
from tests.support.requirements import missing

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
    monkeypatch.setattr(interpreters, "_account_home", lambda: tmp_path / "home")  # the account's home, too
    return tmp_path


def test_pyenv_under_the_accounts_home_is_found_whatever_home_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytester, tox and CI runners give $HOME another folder and may drop PYENV_ROOT: pyenv's installations in
    the account's own home are still found."""
    import pwd

    account = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv" / "versions"
    installed = sorted(p.parent for p in account.glob("*/bin/python[0-9].[0-9]*") if p.name.replace(".", "").isalnum()
                       and p.name[len("python"):].replace(".", "").isdigit()) if account.is_dir() else []
    if not installed:
        missing("python3.7", f"no pyenv installation in {account} (pyenv install 3.7)")
    monkeypatch.setenv("PYTEST_MODELARTS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("PYENV_ROOT", "UV_PYTHON_INSTALL_DIR", "XDG_DATA_HOME", "PYTEST_MODELARTS_PYTHONS"):
        monkeypatch.delenv(name, raising=False)
    found = {i.path.parent for i in find_interpreters()}  # each installation's bin folder
    assert set(installed) <= found, sorted(set(installed) - found)


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
    assert (home / "cache" / "interpreters-2.json").is_file()
    asked.clear()
    assert find_interpreters() == first and asked == []  # the answers come from the cache: nothing is run
    # a binary replaced in place (another mtime) is asked again
    st = os.stat(BASE)
    cache = (home / "cache" / "interpreters-2.json").read_text().replace(str(st.st_mtime_ns), str(st.st_mtime_ns - 1))
    (home / "cache" / "interpreters-2.json").write_text(cache)
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


def _real_python27() -> Path:
    """Python 2.7 of this machine's pyenv (read before a test's ``home`` fixture moves PYENV_ROOT)."""
    from tests.support.requirements import missing

    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted(root.glob("2.7*/bin/python2.7"))
    if not found:
        missing("python2.7", f"no Python 2.7 in {root} (pyenv install 2.7.18)")
    return found[-1].resolve()


@pytest.fixture
def python27() -> Path:
    return _real_python27()


def test_python_2_7_is_found_in_pyenv(python27: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version_dir = home / "pyenv" / "versions" / "2.7.18" / "bin"
    version_dir.mkdir(parents=True)
    (version_dir / "python2.7").symlink_to(python27)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = [i for i in find_interpreters() if i.minor == "2.7"]
    assert [(i.path, i.implementation) for i in found] == [(python27, "cpython")] and found[0].version.startswith("2.7.")
    assert select_interpreter("2.7.*").path == python27
    assert select_interpreter("2.7.*", minor="2.7").path == python27


def test_python_2_7_is_found_on_the_path_and_where_the_user_lists_it(python27: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = home / "bin"
    bindir.mkdir()
    (bindir / "python2.7").symlink_to(python27)
    monkeypatch.setenv("PATH", str(bindir))
    assert python27 in [i.path for i in find_interpreters()]
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHONS", str(home / "elsewhere" / "python2"))
    (home / "elsewhere").mkdir()
    (home / "elsewhere" / "python2").symlink_to(python27)
    assert select_interpreter("2.7.*").path == python27


def test_an_interpreter_that_answers_late_is_asked_again_next_time(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = home / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(BASE)
    monkeypatch.setenv("PATH", str(bindir))
    real_run = subprocess.run

    def late(argv: list[str], **kwargs: object) -> object:
        raise subprocess.TimeoutExpired(argv, 20)

    monkeypatch.setattr(interpreters.subprocess, "run", late)
    assert BASE not in [i.path for i in find_interpreters()]
    monkeypatch.setattr(interpreters.subprocess, "run", real_run)
    assert BASE in [i.path for i in find_interpreters()]  # the late answer was not kept as "not a Python"
