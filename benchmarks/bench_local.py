"""Local-run overhead: a trivial boot file through ``Estimator.fit(wait=True)`` vs run directly.

Both run the same file with the same interpreter, alternately, in this process; the figure is the ratio of
medians and the overhead in milliseconds, with the sandbox on and off, and the share of the supervisor's own
start (its interpreter and imports). Goal (issue 14): +25 ms with the sandbox on.

    python benchmarks/bench_local.py [--runs 15]
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

SUPERVISOR_IMPORTS = "import ctypes, os, signal, subprocess, sys, threading, time"
BOOT = "import argparse\np = argparse.ArgumentParser(); p.add_argument('--train_url'); p.parse_known_args()\nprint('ok')\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
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
        direct: list[float] = []
        fit: dict[bool, list[float]] = {True: [], False: []}
        supervisor: list[float] = []
        for estimator in estimators.values():
            estimator.fit(wait=True)  # warm the file system cache and imports
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(code / "train.py"), f"--train_url={out}"], check=True,
                           stdout=subprocess.DEVNULL)
            direct.append(time.perf_counter() - t0)
            for sandbox, estimator in estimators.items():
                t0 = time.perf_counter()
                estimator.fit(wait=True)
                fit[sandbox].append(time.perf_counter() - t0)
            t0 = time.perf_counter()  # what the supervisor's own start costs every job: its interpreter and imports
            subprocess.run([sys.executable, "-I", "-S", "-c", SUPERVISOR_IMPORTS], check=True)
            supervisor.append(time.perf_counter() - t0)
    d, f, nf, sv = (statistics.median(x) for x in (direct, fit[True], fit[False], supervisor))
    print(f"direct python run              median {d * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"Estimator.fit(wait), sandbox   median {f * 1000:7.1f} ms: overhead {(f - d) * 1000:.1f} ms, ratio {f / d:.2f}x"
          "  (goal: +25 ms)")
    print(f"Estimator.fit(wait), no sandbox median {nf * 1000:6.1f} ms: overhead {(nf - d) * 1000:.1f} ms, ratio {nf / d:.2f}x")
    print(f"  of which the supervisor's interpreter start and imports (python -I -S, {SUPERVISOR_IMPORTS!r}): {sv * 1000:.1f} ms")
    print(f"  and the sandbox (nodes, namespaces, bwrap): {(f - nf) * 1000:.1f} ms")

if __name__ == "__main__":
    main()
