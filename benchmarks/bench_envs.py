"""Benchmark of locked environments, in one run.

    .venv/bin/python benchmarks/bench_envs.py [--pip PKG ...] [--rounds N]

Measures, for the same pip lock (Python = this interpreter's version, the local-interpreter fast path):

* cold build from a warm package cache: a new cache dir, uv's and rattler's package caches already warm;
* warm cache hit: ``ensure_environment`` when the env is built (lock read from disk, memo cleared);
* baseline: ``python -m venv`` + ``pip install --require-hashes --no-deps -r`` the same locked requirements,
  with pip's own cache warm;

and, when Debian's python3.11 is present, a cold build of a conda env (python from the local test channel +
the same pip packages). Prints medians and ratios. Goal: hit < 0.1 s, cold build >= 20x faster than baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_modelarts import CondaDependencies, Environment  # noqa: E402
from pytest_modelarts.envs import lockfile as lockfile_mod  # noqa: E402
from pytest_modelarts.envs.build import build_environment, ensure_environment, pip_requirements  # noqa: E402
from pytest_modelarts.envs.lock import lock_environment  # noqa: E402
from pytest_modelarts.envs.progress import Progress  # noqa: E402

DEFAULT_PIP = ["numpy==2.2.0", "requests==2.32.3", "attrs==24.2.0", "six==1.16.0"]


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pip", nargs="*", default=DEFAULT_PIP)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    quiet = Progress(quiet=True)
    work = Path(tempfile.mkdtemp(prefix="bench-envs-"))
    os.environ["PYTEST_MODELARTS_PKGS_DIR"] = str(work / "pkgs")
    minor = "%d.%d" % sys.version_info[:2]
    env = Environment("bench", conda=CondaDependencies.create(conda_packages=[f"python={minor}"], pip_packages=args.pip),
                      lock_file=work / "bench.conda-lock.yml")
    try:
        locked = lock_environment(env.conda, env.lock_file, "create", cache_dir=work / "c0", python_source="local", progress=quiet)
        build_environment(locked, cache_dir=work / "c0", progress=quiet)  # warms uv's cache

        cold = [timed(lambda i=i: build_environment(locked, cache_dir=work / f"cold{i}", progress=quiet)) for i in range(args.rounds)]

        def hit() -> None:
            lockfile_mod._READ_MEMO.clear()
            built = ensure_environment(env, cache_dir=work / "c0", python_source="local", progress=quiet)
            assert not built.built

        hits = [timed(hit) for _ in range(max(args.rounds, 5))]

        req = work / "requirements.txt"
        req.write_text(pip_requirements(locked.pip))
        interp = sys._base_executable if hasattr(sys, "_base_executable") else sys.executable

        def baseline(i: int) -> None:
            venv = work / f"venv{i}"
            subprocess.run([interp, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--require-hashes",
                            "--no-deps", "-r", str(req)], check=True)

        baseline(-1)  # warms pip's cache
        base = [timed(lambda i=i: baseline(i)) for i in range(args.rounds)]

        conda_cold = None
        try:
            from tests.support.conda_channel import build_channel

            channel = build_channel()
            cenv = Environment("bench-conda", conda=CondaDependencies.create(
                channels=[channel.url], conda_packages=["python=3.11", "minipy"], pip_packages=args.pip),
                lock_file=work / "bench-conda.conda-lock.yml")
            clocked = lock_environment(cenv.conda, cenv.lock_file, "create", cache_dir=work / "cc0", python_source="conda", progress=quiet)
            build_environment(clocked, cache_dir=work / "cc0", progress=quiet)
            conda_cold = [timed(lambda i=i: build_environment(clocked, cache_dir=work / f"ccold{i}", progress=quiet)) for i in range(args.rounds)]
        except FileNotFoundError:
            pass

        m_cold, m_hit, m_base = statistics.median(cold), statistics.median(hits), statistics.median(base)
        print(f"pip packages: {', '.join(args.pip)}  (Python {minor}, {len(locked.pip)} locked pip packages, {args.rounds} rounds, medians)")
        print(f"  cold build, warm package cache (uv venv + uv pip) : {m_cold:8.3f} s")
        print(f"  warm cache hit (ensure_environment)               : {m_hit:8.4f} s")
        print(f"  baseline python -m venv + pip --require-hashes    : {m_base:8.3f} s")
        print(f"  baseline / cold build                             : {m_base / m_cold:8.1f} x   (goal >= 20x)")
        print(f"  baseline / cache hit                              : {m_base / m_hit:8.0f} x   (goal: hit < 0.1 s)")
        if conda_cold:
            m_conda = statistics.median(conda_cold)
            print(f"  cold build of a conda env (python 3.11 from the local channel + the pip packages): {m_conda:.3f} s, "
                  f"baseline / it = {m_base / m_conda:.1f} x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
