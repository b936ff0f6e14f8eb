"""Container start-to-first-log-line overhead of the docker backend, as a ratio to the process backend.

For each backend, the time from ``Estimator.fit()`` to the job's first own line appearing in its log (the
boot file prints one line, then exits), median of several runs. Builds the tests' scratch python image if
needed. Run: ``.venv/bin/python benchmarks/bench_docker.py [--runs N]``.
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
from pytest_modelarts.backends import docker as dk  # noqa: E402
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    why = dk.docker_available()
    if why:
        print(f"skipped: {why}")
        return 0
    image = images.python_image(dk.docker_client())
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
        results = {"process": [], "docker": []}
        for _ in range(args.runs):
            results["process"].append(first_line_seconds(process))
            results["docker"].append(first_line_seconds(container))
    p, d = statistics.median(results["process"]), statistics.median(results["docker"])
    print(f"start-to-first-log-line, median of {args.runs} runs")
    print(f"  process backend: {p * 1000:8.1f} ms")
    print(f"  docker backend:  {d * 1000:8.1f} ms")
    print(f"  ratio docker/process: {d / p:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
