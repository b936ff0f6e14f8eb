"""The first job on a freshly built environment vs the second job on it (a boot file importing scikit-learn).

Builds the same locked environment (python 3.11 from the tests' local conda channel + scikit-learn from PyPI)
into fresh cache dirs, and times ``Estimator.fit(wait=True)`` twice on each, back to back: the first job (which
compiles its imports in memory, while our background compile of the environment's bytecode runs beside it, see
pytest_modelarts/envs/bytecode.py) against the second, with and without the sandbox. Medians of ``--rounds``
fresh builds; the build, the first job, their sum (the cold figure of bench_peers.py) and the second job.

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
        results: dict[str, list[tuple[float, float, float]]] = {}
        for i in range(args.rounds):
            for sandbox in (False, True):
                results.setdefault("sandbox" if sandbox else "no sandbox", []).append(
                    first_and_second(work / f"on{i}{sandbox}", env, lock, code, sandbox))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"first job on a fresh env vs the second (boot file imports scikit-learn), medians of {args.rounds} builds")
    for label, rows in results.items():
        b, f, s = (statistics.median(r[k] for r in rows) for k in range(3))
        print(f"  {label:10s}: build {b:6.2f} s, first job {f:6.2f} s (build + first {b + f:6.2f} s), second {s:6.2f} s: "
              f"first/second {f / s:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
