"""``TrainingJob.tail()`` and the failure report on a big log, against reading the whole log, in one run.

A local job prints ``--mib`` MiB of lines and fails. Then, medians of ``--runs``: ``job.tail()``, and
``raise_for_status()`` (the failure report, which carries the tail), each timed and with its peak Python
memory (tracemalloc), against the baseline of reading the whole log and keeping its last lines. Goal: O(tail),
i.e. a time and a memory that do not grow with the log.

    python benchmarks/bench_tail.py [--mib 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_modelarts import Estimator, Session  # noqa: E402
from pytest_modelarts.errors import JobFailedError  # noqa: E402

BOOT = """import sys
line = ("x" * 99 + "\\n") * 10485  # ~1 MiB of 100-byte lines
for i in range({mib}):
    sys.stdout.write(line)
print("the last line", flush=True)
sys.exit(3)
"""


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median seconds, median peak MiB of Python allocations)."""
    times, peaks = [], []
    for _ in range(runs):
        tracemalloc.start()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return statistics.median(times), statistics.median(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "big.py").write_text(BOOT.format(mib=args.mib))
        session = Session(local_root=Path(tmp) / "root", stream_logs=False)
        job = Estimator(modelarts_session=session, code_dir=code, boot_file="big.py", train_instance_type="local",
                        train_instance_count=1).fit(wait=False)
        job.wait()
        log = Path(job.log_locations()[0])
        size = log.stat().st_size / 2**20

        def baseline() -> list[str]:
            return log.read_text(errors="replace").splitlines()[-20:]

        def report() -> None:
            try:
                job.raise_for_status()
            except JobFailedError:
                return
            raise AssertionError("the job should have failed")

        assert job.tail()[-1].endswith("the last line"), job.tail()[-3:]
        b_t, b_m = measure(baseline, args.runs)
        t_t, t_m = measure(job.tail, args.runs)
        r_t, r_m = measure(report, args.runs)
    print(f"a failed job's log of {size:.0f} MiB, medians of {args.runs}")
    print(f"  baseline: read the whole log, keep its last lines: {b_t * 1000:8.1f} ms, peak {b_m:7.1f} MiB")
    print(f"  job.tail()                                       : {t_t * 1000:8.1f} ms, peak {t_m:7.1f} MiB: "
          f"{b_t / t_t:.0f}x faster")
    print(f"  raise_for_status() (the failure report)          : {r_t * 1000:8.1f} ms, peak {r_m:7.1f} MiB: "
          f"{b_t / r_t:.0f}x faster   (goal: O(tail), not O(log))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
