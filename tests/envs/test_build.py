"""Building: cached prefixes, atomic under SIGKILL, hashes enforced, the local-interpreter fast path, gc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment
from pytest_modelarts.cli import main as cli_main
from pytest_modelarts.envs import bytecode
from pytest_modelarts.envs.build import build_environment, ensure_environment
from pytest_modelarts.envs.cache import MARKER, EnvCache, gc
from pytest_modelarts.envs.lock import LockClaims, lock_environment, read_lock
from pytest_modelarts.errors import BuildError, LockError
from tests.support.conda_channel import LocalChannel
from tests.support.waiting import wait_until

from .conftest import full_env


def run(python: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env)


def test_build_then_cache_hit(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    env = full_env(conda_channel)
    lock = tmp_path / "full.conda-lock.yml"
    built = ensure_environment(env, cache_dir=cache_dir, lock_path=lock)
    assert built.built and built.prefix == EnvCache(cache_dir).env_dir(built.key)
    runtime = built.runtime()
    activated = {**runtime.env, "PATH": os.pathsep.join([*runtime.path_prefix, "/usr/bin:/bin"])}
    # the bytecode is compiled after the build, beside the first job, by us (not by a job), for the pip package and
    # the conda python's stdlib (checked first, by an interpreter that writes none)
    assert bytecode.wait(built.prefix, timeout=120) and (built.prefix / bytecode.COMPILED).is_file()
    proc = run(runtime.python, "import importlib.util as u, os, six, json; print(u.cache_from_source(six.__file__)); "
               "print(u.cache_from_source(json.__file__))", {**activated, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stderr
    for pyc in proc.stdout.split():
        assert pyc.startswith(str(built.prefix)) and Path(pyc).is_file(), pyc
    proc = run(runtime.python, "import sys, six, minipy, ssl, sqlite3, ctypes; print(sys.prefix); print(six.__version__, minipy.VERSION)", activated)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(built.prefix), "1.16.0", "2.0"]
    tool = subprocess.run(["mini-tool"], capture_output=True, text=True, env=activated)
    assert tool.stdout == "mini-tool 0.1\n"
    assert runtime.env["CONDA_PREFIX"] == str(built.prefix) and runtime.isolated and runtime.env_hash == built.key
    # same spec again: same lock, same env, no rebuild
    again = ensure_environment(env, cache_dir=cache_dir, lock_path=lock)
    assert not again.built and again.prefix == built.prefix
    assert [b["key"] for b in EnvCache(cache_dir).builds()] == [built.key]
    assert not any(EnvCache(cache_dir).staging.iterdir())


def test_key_is_the_resolved_content_not_the_file_bytes(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    lock = tmp_path / "e.conda-lock.yml"
    locked = lock_environment(full_env(conda_channel).conda, lock, "create", cache_dir=cache_dir)
    text = lock.read_text()
    lock.write_text("# a comment someone added\n" + text.replace("category: main", "category:   main"))
    reread = read_lock(lock)
    assert reread is not None and reread.key == locked.key


def test_pip_hash_mismatch_fails_the_build(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    lock = tmp_path / "e.conda-lock.yml"
    locked = lock_environment(full_env(conda_channel).conda, lock, "create", cache_dir=cache_dir)
    six = next(p for p in locked.pip if p.name == "six")
    lock.write_text(lock.read_text().replace(six.sha256, "f" * 64))
    tampered = read_lock(lock)
    assert tampered is not None and tampered.key != locked.key
    with pytest.raises(BuildError, match=r"(?s)pip package\(s\) \['six'\] failed \(hash mismatch"):
        build_environment(tampered, cache_dir=cache_dir)
    cache = EnvCache(cache_dir)
    assert not cache.env_dir(tampered.key).exists() and not any(cache.staging.iterdir())


def test_sigkill_halfway_leaves_nothing_usable(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    lock = tmp_path / "e.conda-lock.yml"
    locked = lock_environment(full_env(conda_channel).conda, lock, "create", cache_dir=cache_dir)
    ready = tmp_path / "halfway"
    # a real build in another process that stops after its conda and pip steps, before publishing
    child = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from pytest_modelarts.envs import build
        from pytest_modelarts.envs.lock import read_lock
        real = build._install_pip
        def install_then_hang(*args, **kwargs):
            real(*args, **kwargs)
            Path({str(ready)!r}).touch()
            time.sleep(600)
        build._install_pip = install_then_hang
        build.build_environment(read_lock(Path({str(lock)!r})), cache_dir={str(cache_dir)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=Path(__file__).parents[2])
    try:
        def halfway() -> bool:
            assert proc.poll() is None, "the build process ended before it was killed"
            return ready.exists()

        wait_until(halfway, 120, "the build to get halfway")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    cache = EnvCache(cache_dir)
    staged = list(cache.staging.iterdir())
    assert staged and (staged[0] / "bin" / "python").exists()  # the half env exists, but only in staging
    assert not cache.env_dir(locked.key).exists()
    built = build_environment(locked, cache_dir=cache_dir)
    assert built.built and (cache.env_dir(locked.key) / MARKER).is_file()  # finished: its marker is written last
    assert not any(cache.staging.iterdir())  # the leftover was removed
    assert run(built.python, "import six, minipy", {}).returncode == 0
    assert len(cache.builds()) == 1  # only the finished build counts


def test_local_interpreter_fast_path(tmp_path: Path, cache_dir: Path) -> None:
    minor = "%d.%d" % sys.version_info[:2]
    env = Environment("fast", conda=CondaDependencies.create(conda_packages=[f"python={minor}"], pip_packages=["six==1.16.0"]))
    built = ensure_environment(env, cache_dir=cache_dir, lock_path=tmp_path / "fast.conda-lock.yml", python_source="local")
    assert built.python_source == "local" and built.interpreter.startswith(f"local cpython {minor}.")
    assert (built.prefix / "pyvenv.cfg").exists()
    proc = run(built.python, "import sys, six; print(sys.prefix != sys.base_prefix, six.__version__)", {})
    assert proc.stdout.split() == ["True", "1.16.0"], proc.stderr
    assert read_lock(tmp_path / "fast.conda-lock.yml").python_source == "local"


def test_gc_removes_unused_envs_and_reports_bytes(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = ensure_environment(full_env(conda_channel), cache_dir=cache_dir, lock_path=tmp_path / "a.conda-lock.yml")
    fresh = ensure_environment(full_env(conda_channel, "small", conda_packages=["python=3.11"], pip_packages=[]),
                               cache_dir=cache_dir, lock_path=tmp_path / "b.conda-lock.yml")
    long_ago = time.time() - 40 * 86400
    for f in old.prefix.iterdir():
        if f.name.startswith(".pytest-modelarts"):
            os.utime(f, (long_ago, long_ago))
    dry = gc(cache_dir, older_than=30 * 86400, dry_run=True)
    assert dry.removed == (old.prefix,) and old.prefix.exists()
    assert cli_main(["gc", "--older-than", "30d", "--cache-dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert "removed 1 environment(s)" in out and "kept 1" in out
    assert not old.prefix.exists() and fresh.prefix.exists()
    assert dry.bytes_freed > 0  # the pip package and conda-meta are the env's own files


def test_two_environments_with_one_name_are_refused(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two live Environments named alike lock to one file and would re-lock each other on every fit."""
    import gc as garbage

    monkeypatch.chdir(tmp_path)  # the default lock path is <cwd>/<name>.conda-lock.yml
    claims = LockClaims()  # a session's (the envs plugin keeps one per Session)
    minor = "%d.%d" % sys.version_info[:2]
    first = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"]))
    ensure_environment(first, cache_dir=cache_dir, python_source="local", claims=claims)
    lock = tmp_path / "twin.conda-lock.yml"
    before = lock.read_bytes()
    second = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"],
                                                                 pip_packages=["six==1.16.0"]))
    with pytest.raises(LockError, match=r"two environments named 'twin' .*lock_file=") as info:
        ensure_environment(second, cache_dir=cache_dir, python_source="local", claims=claims)
    assert "six==1.16.0" in str(info.value) and str(lock) in str(info.value)
    assert lock.read_bytes() == before  # refused before any locking
    # an equal spec in another object is the same environment, not a conflict
    same = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"]))
    assert not ensure_environment(same, cache_dir=cache_dir, python_source="local", claims=claims).built
    # a changed environment (the old one dropped, as when a notebook cell runs again) re-locks as before
    del first, same
    garbage.collect()
    ensure_environment(second, cache_dir=cache_dir, python_source="local", claims=claims)
    assert lock.read_bytes() != before
    # and its own lock file is the fix the message gives
    third = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"]),
                        lock_file=tmp_path / "twin-small.conda-lock.yml")
    ensure_environment(third, cache_dir=cache_dir, python_source="local", claims=claims)
