"""Per-job cost against the worker count: a trivial boot file through ``Estimator.fit(wait=True)`` with 1 to 4 workers.

All in this process, sandbox on: the same file run directly (one process, the same interpreter) is the baseline;
each count's figure is its median start-to-end minus the direct run's. Counts and the direct run alternate; one
warm-up job per count first. Workers of a job start together, so the cost should stay flat in the count. Goal: the
4-worker job <= +60 ms over the 1-worker job.

    python benchmarks/bench_workers.py [--runs 21] [--counts 1 2 4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_modelarts import Estimator, Session

BOOT = "import argparse\np = argparse.ArgumentParser(); p.add_argument('--train_url'); p.parse_known_args()\nprint('ok')\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code = root / "code"
        code.mkdir()
        (code / "train.py").write_text(BOOT)
        session = Session(local_root=root / "runs", stream_logs=False, sandbox=not args.no_sandbox)
        estimators = {n: Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py",
                                   train_instance_type="local", train_instance_count=n) for n in args.counts}
        times: dict[str, list[float]] = {"direct": [], **{str(n): [] for n in args.counts}}
        for estimator in estimators.values():
            estimator.fit(wait=True).raise_for_status()  # warm-up
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(code / "train.py"), f"--train_url={root}"], check=True, capture_output=True)
            times["direct"].append(time.perf_counter() - t0)
            for n, estimator in estimators.items():
                t0 = time.perf_counter()
                estimator.fit(wait=True).raise_for_status()
                times[str(n)].append(time.perf_counter() - t0)
    med = {side: statistics.median(t) * 1000 for side, t in times.items()}
    print(f"direct python run                 median {med['direct']:6.1f} ms  ({args.runs} runs)")
    for n in args.counts:
        print(f"Estimator.fit(wait), {n} worker(s)   median {med[str(n)]:6.1f} ms: overhead {med[str(n)] - med['direct']:+6.1f} ms")
    first, last = min(args.counts), max(args.counts)
    print(f"{last} workers over {first}: {med[str(last)] - med[str(first)]:+.1f} ms  (goal: 4 over 1 <= +60 ms)")


if __name__ == "__main__":
    main()
