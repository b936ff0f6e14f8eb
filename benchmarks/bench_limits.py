"""The per-job cost of a flavor's limits: a trivial boot file through ``Estimator.fit(wait=True)`` in a sandboxed node,
without control groups, with the groups that only measure the peak (a job without a flavor), and with a flavor's
limits (``modelarts.vm.cpu.2u`` scaled to 256 MiB), alternately in this process; the figure is the difference of
medians in milliseconds and their ratio, sides in a shuffled order each round. It also times the groups alone (make
them, join a process to them as a worker joins them, read its peak, remove them), which is all that the limits add to a
job's path: on a loaded machine the difference of whole jobs is within their noise. Goal: at most 10 ms per job.

Runs as root where cgroup v1 is writable, or where cgroup v2 is delegated (see backends/local/limits.py).

    python benchmarks/bench_limits.py [--runs 31]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from pytest_modelarts import ContainerOptions, Estimator, Session
from pytest_modelarts.backends.local import limits
from pytest_modelarts.core import flavors as fl

BOOT = "import argparse\np = argparse.ArgumentParser(); p.add_argument('--train_url'); p.parse_known_args()\n"
ROOT = limits.ROOT


def groups_available(available: bool) -> None:
    """Switch this process's control groups on or off (the baseline runs as on a machine that gives none)."""
    limits.ROOT = ROOT if available else Path("/nonexistent")
    limits.hierarchy.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    if not limits.hierarchy().version:
        raise SystemExit(f"no control groups here: {limits.hierarchy().why_not}")
    flavor = fl.resolve("modelarts.vm.cpu.2u", memory=None, cpus=None, smoke_memory="256m", smoke_cpus=None,
                        memory_of=lambda _: 256 * fl.MIB)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        code = root / "code"
        code.mkdir()
        (code / "train.py").write_text(BOOT)
        session = Session(local_root=root / "runs", stream_logs=False, sandbox=True)

        def estimator(**options: object) -> Estimator:
            return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                             train_instance_count=1, container_options=ContainerOptions(**options))  # type: ignore[arg-type]

        sides = {"no groups": (False, estimator()), "peak only": (True, estimator()),
                 "cpu.2u limits": (True, estimator(flavor="modelarts.vm.cpu.2u", smoke_memory="256m"))}
        times: dict[str, list[float]] = {side: [] for side in sides}
        for available, est in sides.values():  # warm-up: imports, caches, the standby's first supervisor and holder
            groups_available(available)
            est.fit(wait=True)
        order = list(sides)
        shuffle = random.Random(0).shuffle
        for _ in range(args.runs):
            shuffle(order)  # no side always follows another (the standby's refill after a job competes with the next)
            for side in order:
                available, est = sides[side]
                groups_available(available)
                t0 = time.perf_counter()
                job = est.fit(wait=True)
                times[side].append(time.perf_counter() - t0)
                assert job.phase.value == "Completed", job.logs()
        groups_available(True)
        alone = []
        for i in range(args.runs * 4):
            child = os.fork()  # a stand-in worker, joined to the groups as the supervisor's child joins them
            if child == 0:
                time.sleep(10)
                os._exit(0)
            t0 = time.perf_counter()
            made = limits.JobGroups.create(f"bench-{i}", 1, flavor)
            for procs in made.procs(0):
                Path(procs).write_text(str(child))
            t1 = time.perf_counter()
            os.kill(child, 9)
            os.waitpid(child, 0)
            t2 = time.perf_counter()
            made.read_usage()
            made.remove()
            alone.append(t1 - t0 + time.perf_counter() - t2)
    base = statistics.median(times["no groups"]) * 1000
    print(f"Estimator.fit(wait), sandboxed node, no control groups   median {base:6.1f} ms ({args.runs} runs)")
    for side in ("peak only", "cpu.2u limits"):
        m = statistics.median(times[side]) * 1000
        print(f"  {side:13s}                                         median {m:6.1f} ms: {m - base:+.1f} ms, ratio {m / base:.3f}x")
    print(f"the groups alone (make, join, read, remove), one worker    median {statistics.median(alone) * 1000:6.2f} ms "
          "(goal: <= 10 ms per job)")


if __name__ == "__main__":
    main()
