"""The first job on a freshly built environment vs the second job on it (a boot file importing scikit-learn).

Builds the same locked environment (python 3.11 from the tests' local conda channel + scikit-learn from PyPI)
into fresh cache dirs, and times ``Estimator.fit(wait=True)`` twice on each: the first job against the second.
Baseline in the same run: the same, with the build's bytecode step switched off (what the build did before it
compiled bytecode), with and without the sandbox (whose read-only prefix keeps a job from writing bytecode, so
there every job paid). Goal: first/second <= 1.3x. Medians of ``--rounds`` fresh builds.

    python benchmarks/bench_first_job.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_modelarts import CondaDependencies, Environment, Estimator, Session  # noqa: E402
from pytest_modelarts.envs import build as build_mod  # noqa: E402
from pytest_modelarts.envs.lock import lock_environment  # noqa: E402
from pytest_modelarts.envs.progress import Progress  # noqa: E402

BOOT = "import sklearn.linear_model, sklearn.model_selection, sklearn.metrics\nprint('ok', flush=True)\n"


def first_and_second(root: Path, env: Environment, lock: Path, code: Path, sandbox: bool) -> tuple[float, float, float]:
    """(build seconds, first job seconds, second job seconds) on a fresh cache dir."""
    session = Session(local_root=root / "runs", cache_dir=root / "cache", stream_logs=False, lock_mode="check",
                      sandbox=sandbox)
    t0 = time.perf_counter()
    build_mod.build_environment(lock_environment(env.conda, lock, "check", cache_dir=root / "cache", progress=Progress(quiet=True)),
                                cache_dir=root / "cache", name=env.name, progress=Progress(quiet=True))
    built = time.perf_counter() - t0
    estimator = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                          train_instance_count=1, environment=env)
    times = []
    try:
        for _ in range(2):
            t0 = time.perf_counter()
            job = estimator.fit(wait=True)
            times.append(time.perf_counter() - t0)
            job.raise_for_status()
    finally:
        shutil.rmtree(root, ignore_errors=True)  # a scikit-learn env is ~300 MB
    return built, times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        from tests.support.conda_channel import build_channel

        channel = build_channel()
    except FileNotFoundError as exc:
        print(f"skipped: {exc}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-first-job-"))
    os.environ["PYTEST_MODELARTS_PKGS_DIR"] = str(work / "pkgs")
    try:
        code = work / "code"
        code.mkdir()
        (code / "train.py").write_text(BOOT)
        env = Environment("first-job", conda=CondaDependencies.create(
            channels=[channel.url], conda_packages=["python=3.11"], pip_packages=["scikit-learn==1.5.2"]),
            lock_file=work / "first-job.conda-lock.yml")
        lock = env.lock_file
        lock_environment(env.conda, lock, "create", cache_dir=work / "warm", python_source="conda", progress=Progress(quiet=True))
        first_and_second(work / "warm", env, lock, code, False)  # warms the package caches
        compile_bytecode = build_mod._compile_bytecode
        results: dict[str, list[tuple[float, float, float]]] = {}
        for i in range(args.rounds):
            for sandbox in (False, True):
                where = "sandbox" if sandbox else "no sandbox"
                build_mod._compile_bytecode = lambda prefix, progress: None  # type: ignore[assignment]
                results.setdefault(f"{where}, no bytecode step (the baseline)", []).append(
                    first_and_second(work / f"off{i}{sandbox}", env, lock, code, sandbox))
                build_mod._compile_bytecode = compile_bytecode
                results.setdefault(f"{where}, bytecode at build", []).append(
                    first_and_second(work / f"on{i}{sandbox}", env, lock, code, sandbox))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"first job on a fresh env vs the second (boot file imports scikit-learn), medians of {args.rounds} builds")
    for label, rows in results.items():
        b, f, s = (statistics.median(r[k] for r in rows) for k in range(3))
        print(f"  {label:39s}: build {b:6.2f} s, first job {f:6.2f} s, second {s:6.2f} s: first/second {f / s:5.2f}x"
              f"   (goal <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
