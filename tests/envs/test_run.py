"""End to end: Estimator.fit runs the boot file in the locked env; four xdist workers share one build."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, Session
from pytest_modelarts.envs.cache import EnvCache
from pytest_modelarts.errors import JobFailedError
from tests.support.conda_channel import LocalChannel

from .conftest import full_env

BOOT = """\
import argparse, os, sys
import six, minipy
p = argparse.ArgumentParser(); p.add_argument("--train_url"); a, _ = p.parse_known_args()
print("python", sys.executable)
print("prefix", sys.prefix)
print("conda", os.environ.get("CONDA_PREFIX"))
print("virtualenv", os.environ.get("VIRTUAL_ENV"))
print("six", six.__version__, "minipy", minipy.VERSION)
open(os.path.join(a.train_url, "done"), "w").write("ok")
"""


def _estimator(session: Session, code: Path, env, out: Path) -> Estimator:  # noqa: ANN001
    return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                     train_instance_count=1, environment=env, output_path=str(out))


def test_fit_runs_in_the_locked_env(conda_channel: LocalChannel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(BOOT)
    env = full_env(conda_channel).__class__("e2e", conda=full_env(conda_channel).conda, lock_file=tmp_path / "e2e.conda-lock.yml")
    monkeypatch.setenv("VIRTUAL_ENV", "/caller/venv")  # the caller's venv must not leak into the job
    monkeypatch.setenv("PYTHONPATH", "/caller/pythonpath")
    session = Session(cache_dir=tmp_path / "cache", local_root=tmp_path / "runs", stream_logs=False)
    job = _estimator(session, code, env, tmp_path / "out").fit(wait=True)
    prefix = EnvCache(tmp_path / "cache").envs
    log = job.logs()
    assert f"prefix {prefix}" in log and f"conda {prefix}" in log
    assert "virtualenv None" in log and "six 1.16.0 minipy 2.0" in log
    assert "/caller/pythonpath" not in log
    assert (tmp_path / "e2e.conda-lock.yml").exists()
    # the lock parses with conda-lock's parser (the builder checked it) and a second run reuses the env
    _estimator(session, code, env, tmp_path / "out2").fit(wait=True)
    assert len(EnvCache(tmp_path / "cache").builds()) == 1


def test_missing_import_fails_the_run_visibly(conda_channel: LocalChannel, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import six\nimport sklearn  # not in the spec\n")
    env = full_env(conda_channel).__class__("e2e", conda=full_env(conda_channel).conda, lock_file=tmp_path / "e2e.conda-lock.yml")
    session = Session(cache_dir=tmp_path / "cache", local_root=tmp_path / "runs", stream_logs=False)
    with pytest.raises(JobFailedError, match=r"ModuleNotFoundError: No module named 'sklearn'"):
        _estimator(session, code, env, tmp_path / "out").fit(wait=True)


def test_four_xdist_workers_build_once(conda_channel: LocalChannel, pytester: pytest.Pytester, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    pytester.makepyfile(
        test_shared=textwrap.dedent(f"""
            import subprocess
            import pytest
            from pathlib import Path
            from pytest_modelarts import CondaDependencies, Environment
            from pytest_modelarts.envs.build import ensure_environment

            ENV = Environment("shared", conda=CondaDependencies.create(
                channels=[{conda_channel.url!r}], conda_packages=["python=3.11", "minipy"], pip_packages=["six==1.16.0"]),
                lock_file={str(tmp_path / "shared.conda-lock.yml")!r})

            @pytest.mark.parametrize("i", range(4))
            def test_uses_env(i):
                built = ensure_environment(ENV, cache_dir={str(cache)!r})
                out = subprocess.run([str(built.python), "-c", "import six, minipy; print(minipy.VERSION)"],
                                     capture_output=True, text=True)
                assert out.stdout == "2.0\\n", out.stderr
        """)
    )
    result = pytester.runpytest_subprocess("-n", "4", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    builds = EnvCache(cache).builds()
    assert len(builds) == 1, builds
    assert len({b["pid"] for b in builds}) == 1


def test_one_session_refuses_two_environments_of_one_name(tmp_path: Path, cache_dir: Path) -> None:
    """Through fit(): the second Environment named alike is refused before locking, naming the fix."""
    import sys

    from pytest_modelarts import CondaDependencies, Environment
    from pytest_modelarts.errors import LockError

    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('ok')\n")
    minor = "%d.%d" % sys.version_info[:2]
    session = Session(cache_dir=str(cache_dir), python_source="local")
    small = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"]),
                        lock_file=tmp_path / "twin.conda-lock.yml")
    bigger = Environment("twin", conda=CondaDependencies.create(conda_packages=[f"python={minor}"], pip_packages=["six==1.16.0"]),
                         lock_file=tmp_path / "twin.conda-lock.yml")
    _estimator(session, code, small, tmp_path / "out1").fit(wait=True)
    with pytest.raises(LockError, match=r"two environments named 'twin'.*lock_file="):
        _estimator(session, code, bigger, tmp_path / "out2").fit(wait=True)
    # another session (another pytest run in the same process) keeps its own record
    _estimator(Session(cache_dir=str(cache_dir), python_source="local"), code, bigger, tmp_path / "out3").fit(wait=True)
