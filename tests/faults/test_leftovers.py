"""What a run killed mid-job leaves on disk (its job's sandbox, a half-copied output file) is removed by the next run;
what a run kept on purpose (a failed job's sandbox), and what a live run owns, stay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.backends.leftovers import OWNER_NOTE
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)
from tests.support.waiting import wait_until

KILLED_RUN = """\
import sys
from pytest_modelarts import Estimator, Session
session = Session(local_root=sys.argv[1], stream_logs=False, stop_grace_period=1)
Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="sleep.py", train_instance_type="local",
          train_instance_count=1).fit(wait=True)
"""


def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir(exist_ok=True)
    (folder / "sleep.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    (folder / "train.py").write_text("import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--train_url')\n"
                                     "a, _ = p.parse_known_args()\nopen(os.path.join(a.train_url, 'model.bin'), 'w').write('m')\n")
    return folder


def dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_killed_runs_sandbox_is_removed_by_the_next_run_and_a_kept_one_stays(tmp_path: Path) -> None:
    root, runs = tmp_path / "root", tmp_path / "root" / "runs"
    killed = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(root), str(code(tmp_path))])
    try:
        def started() -> Path | None:
            assert killed.poll() is None, "the run ended before it was killed"
            return next((note.parent for note in runs.glob(f"*/{OWNER_NOTE}")
                         if any("started" in log.read_text(errors="replace") for log in note.parent.rglob("*.log"))), None)
        left = wait_until(started, 120, what="the first run's job to start")
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    kept = runs / "job-kept-on-purpose"  # a failed job's sandbox a run kept: it holds no owner note
    kept.mkdir()
    live = runs / "job-of-a-live-run"  # a sandbox whose owner (this process) runs: never touched
    live.mkdir()
    (live / OWNER_NOTE).write_text(f"{os.getpid()} {_ticks(os.getpid())}")
    assert left.is_dir()
    session = Session(local_root=root, stream_logs=False, stop_grace_period=1)
    job = Estimator(modelarts_session=session, code_dir=code(tmp_path), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert not left.exists(), "the killed run's sandbox was left"
    assert kept.is_dir() and live.is_dir()
    assert job.sandbox is not None and not (job.sandbox / OWNER_NOTE).exists()  # ended: the run's to keep or remove


def test_a_partial_file_of_a_killed_delivery_is_removed_by_the_next_delivery(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".model.bin.{dead_pid()}.partial"
    stale.write_text("half a model")
    mine = out / f".other.bin.{os.getpid()}.partial"  # a live process's copy under way: not touched
    mine.write_text("being copied")
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1)
    job = Estimator(modelarts_session=session, code_dir=code(tmp_path), boot_file="train.py", output_path=out,
                    train_instance_type="local", train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert (out / "model.bin").read_text() == "m"
    assert not stale.exists() and mine.exists()


def _ticks(pid: int) -> str | None:
    from pytest_modelarts.core.oskit import start_ticks

    return start_ticks(pid)


def test_a_killed_builds_staging_is_removed_by_the_next_build_of_any_environment(
        tmp_path: Path, conda_channel: LocalChannel, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A build killed halfway leaves a staging dir; the next build, of whatever environment, removes it (a build
    under way, whose lock is held, keeps its own)."""
    import filelock

    from pytest_modelarts.envs.build import ensure_environment
    from pytest_modelarts.envs.cache import EnvCache
    from tests.envs.conftest import full_env

    monkeypatch.setenv("PYTEST_MODELARTS_PKGS_DIR", str(tmp_path / "pkgs"))
    monkeypatch.delenv("PYTEST_MODELARTS_PYTHON", raising=False)
    cache = EnvCache(tmp_path / "cache")
    for folder in (cache.staging, cache.locks):
        folder.mkdir(parents=True, exist_ok=True)
    killed = cache.staging / "0123456789abcdef-killed"
    (killed / "lib").mkdir(parents=True)
    (killed / "lib" / "half.so").write_bytes(b"x" * 1000)
    busy = cache.staging / "fedcba9876543210-building"
    busy.mkdir()
    held = filelock.FileLock(str(cache.lock_path("fedcba9876543210" + "0" * 48)))
    with held:
        ensure_environment(full_env(conda_channel, conda_packages=["python=3.11"], pip_packages=[]),
                           cache_dir=cache.root, lock_path=tmp_path / "e.conda-lock.yml")
        assert not killed.exists() and busy.is_dir()
