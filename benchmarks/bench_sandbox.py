"""Sandboxed nodes: what they cost a job's start, and that staging inputs does not grow with their size.

1. Start to end of a trivial boot file through ``Estimator.fit(wait=True)``: sandboxed nodes vs the relocated
   mode (``Session(sandbox=False)``), alternately in this process; the figure is the difference of medians.
   Goal: <= 30 ms more.
2. Staging: the same trivial job with inputs of 10 MB, 100 MB and 1 GB, with 1, 2 and 4 workers, sandboxed (a
   copy-on-write overlay per worker); the figure is the median minus the median of the same job without inputs.
   Goal: flat in the size, <= 0.3 s extra at 1 GB x 2 workers. The relocated mode (a copy per worker) at
   1 GB x 2 workers is the baseline.

    python benchmarks/bench_sandbox.py [--runs 15] [--staging-runs 5] [--skip-staging]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from pytest_modelarts import Estimator, Session
from pytest_modelarts.backends.local.nodes import unavailable

BOOT = "print('ok')\n"
MB = 1024 * 1024


def timed(estimator: Estimator, inputs: str | None) -> float:
    start = time.perf_counter()
    estimator.fit(inputs=inputs, wait=True)
    return time.perf_counter() - start


def make_inputs(root: Path, size_mb: int) -> Path:
    """``size_mb`` of inputs in files of 10 MB (or one smaller file)."""
    folder = root / f"inputs-{size_mb}mb"
    folder.mkdir()
    chunk = os.urandom(MB)
    for index in range(max(1, size_mb // 10)):
        with open(folder / f"part-{index:03d}.bin", "wb") as fh:
            for _ in range(min(10, size_mb)):
                fh.write(chunk)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--staging-runs", type=int, default=5)
    parser.add_argument("--skip-staging", action="store_true")
    args = parser.parse_args()
    why = unavailable()
    if why is not None:
        raise SystemExit(f"sandboxed nodes are unavailable here: {why}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        code = root / "code"
        code.mkdir()
        (code / "train.py").write_text(BOOT)

        def estimator(sandbox: bool, workers: int = 1) -> Estimator:
            session = Session(local_root=root / f"runs-{sandbox}-{workers}", stream_logs=False, sandbox=sandbox)
            return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py",
                             train_instance_type="local", train_instance_count=workers)

        sandboxed, relocated = estimator(True), estimator(False)
        timed(sandboxed, None), timed(relocated, None)  # warm the file system cache and imports
        with_nodes, without = [], []
        for _ in range(args.runs):
            with_nodes.append(timed(sandboxed, None))
            without.append(timed(relocated, None))
        s, r = statistics.median(with_nodes), statistics.median(without)
        print(f"trivial job, 1 worker, fit(wait=True): sandboxed {s * 1000:.1f} ms, relocated {r * 1000:.1f} ms "
              f"(medians of {args.runs}): +{(s - r) * 1000:.1f} ms  (goal: <= +30 ms)")
        if args.skip_staging:
            return
        sizes = (10, 100, 1024)
        inputs = {size: make_inputs(root, size) for size in sizes}
        print(f"staging: median of {args.staging_runs} runs minus the same job without inputs (goal: flat, "
              "<= 0.3 s at 1 GB x 2 workers)")
        for workers in (1, 2, 4):
            est = estimator(True, workers)
            timed(est, None)
            empty = statistics.median(timed(est, None) for _ in range(args.staging_runs))
            row = []
            for size in sizes:
                cost = statistics.median(timed(est, str(inputs[size])) for _ in range(args.staging_runs)) - empty
                row.append(f"{size if size < 1024 else '1 GB'}{' MB' if size < 1024 else ''}: {cost * 1000:+7.1f} ms")
            print(f"  {workers} worker(s), sandboxed:  " + "   ".join(row))
        est = estimator(False, 2)
        empty = statistics.median(timed(est, None) for _ in range(args.staging_runs))
        copy = statistics.median(timed(est, str(inputs[1024])) for _ in range(args.staging_runs)) - empty
        print(f"  baseline, relocated mode (a copy per worker), 1 GB x 2 workers: {copy * 1000:+.1f} ms")


if __name__ == "__main__":
    main()
