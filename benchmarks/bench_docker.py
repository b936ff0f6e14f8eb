"""Docker backend overheads, each against the process backend in the same run (medians of ``--runs``).

* start to the first log line, 1 worker: the time from ``Estimator.fit()`` to the job's first own line in its
  log (the boot file prints one line, then exits). Goal: <= 0.5 s.
* ``fit(wait=False)`` returning, 2 workers (the job's network made, both containers created and started).
  Goal: <= 1.0 s.

and the Docker backend's own steps (``info()["timings"]``). Builds the tests' scratch python image if needed.
Run: ``.venv/bin/python benchmarks/bench_docker.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_modelarts import Estimator, Session  # noqa: E402
from pytest_modelarts.backends.docker import client as dk_client  # noqa: E402
from tests.support import images  # noqa: E402

LINE = "first-log-line"


def first_line_seconds(estimator: Estimator) -> float:
    start = time.perf_counter()
    job = estimator.fit()
    while LINE not in job.logs():
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    job.wait()
    job.raise_for_status()
    return elapsed


def fit_returns_seconds(estimator: Estimator, steps: dict[str, list[float]]) -> float:
    start = time.perf_counter()
    job = estimator.fit(wait=False)
    elapsed = time.perf_counter() - start
    job.wait()
    job.raise_for_status()
    for step, seconds in job.get_job_info().get("timings", {}).items():
        steps.setdefault(step, []).append(seconds)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    why = dk_client.docker_available()
    if why:
        print(f"skipped: {why}")
        return 0
    image = images.python_image(dk_client.docker_client())
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "hello.py").write_text(f"print({LINE!r}, flush=True)\n")
        session = Session(local_root=Path(tmp) / "root", stream_logs=False)
        common = dict(modelarts_session=session, code_dir=code, boot_file="hello.py", train_instance_type="local",
                      train_instance_count=1)
        process = Estimator(**common, backend="local")
        container = Estimator(**common, user_image_url=image)
        first_line_seconds(process), first_line_seconds(container)  # warm caches
        results: dict[str, list[float]] = {"process": [], "docker": [], "process x2": [], "docker x2": []}
        steps: dict[str, list[float]] = {}
        process2 = Estimator(**{**common, "train_instance_count": 2}, backend="local")
        container2 = Estimator(**{**common, "train_instance_count": 2}, user_image_url=image)
        for _ in range(args.runs):
            results["process"].append(first_line_seconds(process))
            results["docker"].append(first_line_seconds(container))
            results["process x2"].append(fit_returns_seconds(process2, {}))
            results["docker x2"].append(fit_returns_seconds(container2, steps))
    p, d = statistics.median(results["process"]), statistics.median(results["docker"])
    p2, d2 = statistics.median(results["process x2"]), statistics.median(results["docker x2"])
    print(f"Docker backend vs process backend, medians of {args.runs} runs")
    print(f"  start to first log line, 1 worker : docker {d * 1000:7.1f} ms, process {p * 1000:6.1f} ms: "
          f"{d / p:.1f}x, +{(d - p) * 1000:.0f} ms   (goal: docker <= 500 ms)")
    print(f"  fit(wait=False) returns, 2 workers: docker {d2 * 1000:7.1f} ms, process {p2 * 1000:6.1f} ms: "
          f"{d2 / p2:.1f}x, +{(d2 - p2) * 1000:.0f} ms   (goal: docker <= 1000 ms)")
    if steps:
        print("  docker steps of fit(wait=False), 2 workers: " + ", ".join(
            f"{step} {statistics.median(v) * 1000:.0f} ms" for step, v in steps.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
