"""Local-run overhead: a trivial boot file through ``Estimator.fit(wait=True)`` vs run directly.

Both run the same file with the same interpreter, alternately, in this process; the figure is the difference of
medians in milliseconds (and their ratio), with the sandbox on and off. The boot file stamps the time at its
first and last line, which splits the overhead into the part before the file runs (sandbox directory, node,
supervisor, launchers) and the part after (the chain's exits, the status, the delivery). Jobs of a process after
its first take a supervisor and a namespace holder started beforehand (backends/local/standby.py); the warm-up
fit of each estimator is the first. Goal: +25 ms with the sandbox on.

    python benchmarks/bench_local.py [--runs 41]
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

BOOT = """import time
print("start", time.time(), flush=True)
import argparse
p = argparse.ArgumentParser(); p.add_argument('--train_url'); p.parse_known_args()
print("end", time.time(), flush=True)
"""


def stamps(text: str) -> tuple[float, float]:
    found = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.startswith(("start ", "end "))}
    return found["start"], found["end"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code = root / "code"
        code.mkdir()
        (code / "train.py").write_text(BOOT)
        out = root / "direct-out"
        out.mkdir()
        estimators = {
            sandbox: Estimator(modelarts_session=Session(local_root=root / f"runs-{sandbox}", stream_logs=False, sandbox=sandbox),
                               code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1)
            for sandbox in (True, False)
        }
        # per side: total, before the first line, after the last line (seconds)
        rows: dict[str, list[tuple[float, float, float]]] = {"direct": [], "sandbox": [], "relocated": []}
        for estimator in estimators.values():
            estimator.fit(wait=True)  # warm the file system cache and imports; the process's first job
        for _ in range(args.runs):
            t0 = time.time()
            printed = subprocess.run([sys.executable, str(code / "train.py"), f"--train_url={out}"], check=True,
                                     capture_output=True, text=True).stdout
            t1 = time.time()
            first, last = stamps(printed)
            rows["direct"].append((t1 - t0, first - t0, t1 - last))
            for sandbox, estimator in estimators.items():
                t0 = time.time()
                job = estimator.fit(wait=True)
                t1 = time.time()
                first, last = stamps(job.logs())
                rows["sandbox" if sandbox else "relocated"].append((t1 - t0, first - t0, t1 - last))
    med = {side: [statistics.median(r[i] for r in runs) * 1000 for i in range(3)] for side, runs in rows.items()}
    d = med["direct"]
    print(f"direct python run               median {d[0]:6.1f} ms  ({args.runs} runs; {d[1]:.1f} ms to its first line, "
          f"{d[2]:.1f} ms from its last)")
    for side, goal in (("sandbox", "  (goal: +25 ms)"), ("relocated", "")):
        m = med[side]
        print(f"Estimator.fit(wait), {side:9s}  median {m[0]:6.1f} ms: overhead {m[0] - d[0]:+.1f} ms, ratio "
              f"{m[0] / d[0]:.2f}x{goal}")
        print(f"  before the boot file's first line {m[1] - d[1]:+.1f} ms, after its last line {m[2] - d[2]:+.1f} ms")


if __name__ == "__main__":
    main()
