"""Local-run overhead: a trivial boot file through ``Estimator.fit(wait=True)`` vs run directly.

Both run the same file with the same interpreter, alternately, in this process; the figure is the ratio of
medians and the overhead in seconds. Target: overhead under 0.2 s or 1.10x, whichever is larger.

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
        session = Session(local_root=root / "runs", stream_logs=False)
        estimator = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py",
                              train_instance_type="local", train_instance_count=1)
        direct, fit = [], []
        estimator.fit(wait=True)  # warm the file system cache and imports
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(code / "train.py"), f"--train_url={out}"], check=True,
                           stdout=subprocess.DEVNULL)
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            estimator.fit(wait=True)
            fit.append(time.perf_counter() - t0)
    d, f = statistics.median(direct), statistics.median(fit)
    print(f"direct python run      median {d * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"Estimator.fit(wait)    median {f * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"overhead {(f - d) * 1000:.1f} ms, ratio {f / d:.2f}x  (target: < 200 ms or < 1.10x)")


if __name__ == "__main__":
    main()
