"""Finding local interpreters (what every cold lock and build of a ``python_source="local"`` env does).

In one run, medians of ``--runs``:

* baseline: the discovery as it was (``shutil.which`` of python3.20 ... python3, python, each run to ask its
  version: on a machine with pyenv that runs its shims, and lists one interpreter once per shim);
* ``find_interpreters()`` with an empty answer cache (every real interpreter asked once);
* ``find_interpreters()`` with the answers cached (by path and mtime: nothing run). Goal: <= 0.2 s.

    python benchmarks/bench_interpreters.py [--runs 5]
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

from pytest_modelarts.envs.interpreters import find_interpreters  # noqa: E402

_QUERY = "import sys, platform; print(platform.python_version()); print(sys.implementation.name)"


def baseline() -> list[str]:
    """The previous discovery, verbatim in behaviour: which + run each candidate."""
    names = [Path(p) for p in (getattr(sys, "_base_executable", None), sys.executable) if p]
    for name in [f"python3.{minor}" for minor in range(20, 5, -1)] + ["python3", "python"]:
        found = shutil.which(name)
        if found:
            names.append(Path(found))
    seen, out = set(), []
    for path in names:
        try:
            real = path.resolve(strict=True)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        try:
            proc = subprocess.run([str(path), "-I", "-c", _QUERY], capture_output=True, text=True, timeout=20, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        out.append(f"{proc.stdout.split()[0]} at {path}")
    return out


def timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old, cold, warm = [], [], []
        for i in range(args.runs):
            old.append(timed(baseline))
            os.environ["PYTEST_MODELARTS_CACHE_DIR"] = str(Path(tmp) / f"c{i}")
            cold.append(timed(find_interpreters))
            warm.append(timed(find_interpreters))
        listed_old, listed_new = baseline(), [str(i) for i in find_interpreters()]
    o, c, w = statistics.median(old), statistics.median(cold), statistics.median(warm)
    print(f"finding local interpreters, medians of {args.runs}")
    print(f"  baseline (which + run each, shims included): {o * 1000:8.1f} ms, {len(listed_old)} listed: {', '.join(listed_old)}")
    print(f"  find_interpreters, empty answer cache       : {c * 1000:8.1f} ms, {len(listed_new)} listed")
    print(f"  find_interpreters, answers cached           : {w * 1000:8.1f} ms  (goal <= 200 ms)")
    print(f"  baseline / cached: {o / w:.0f}x, baseline / cold: {o / c:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
