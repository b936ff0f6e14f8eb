"""A flavor's memory and cores, enforced on a local run by both backends: sandboxed nodes and Docker containers.

The flavors are scaled down on purpose, by the same factor (1/32), so that the tests stay cheap on a small machine:
``modelarts.vm.cpu.2u`` (8 GiB online) gets 256 MiB, ``modelarts.vm.cpu.8u`` (32 GiB online) gets 1 GiB; a job that
allocates 400 MiB exceeds the first and fits the second, as a 12.5 GiB job would online.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import ContainerOptions, Estimator, JobPhase, Session
from pytest_modelarts.backends.docker import backend as dk_backend
from pytest_modelarts.core import flavors as fl

from .conftest import CODE

SMALL = {"flavor": "modelarts.vm.cpu.2u", "smoke_memory": "256m"}
BIG = {"flavor": "modelarts.vm.cpu.8u", "smoke_memory": "1g"}


@pytest.fixture(params=["local", "docker"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "docker":
        image = request.getfixturevalue("python_image")
        monkeypatch.setenv(dk_backend.IMAGE_VARIABLE, image)
    else:
        request.getfixturevalue("cgroups")
    return str(request.param)


def run(session: Session, backend: str, mib: int, **options: Any) -> Any:
    job = Estimator(modelarts_session=session, code_dir=str(CODE), boot_file="hog.py", train_instance_type="local",
                    train_instance_count=1, backend=backend, hyperparameters=[{"label": "mib", "value": str(mib)}],
                    container_options=ContainerOptions(**options)).fit(wait=False)
    job.wait(300)
    return job


def test_a_job_over_its_flavors_memory_fails_with_the_flavors_name_and_limit(session: Session, backend: str) -> None:
    job = run(session, backend, 400, **SMALL)
    assert job.phase is JobPhase.FAILED and job.exit_code == 137
    reason = job.failure_reason or ""
    assert reason.startswith("out of memory: exceeded the 256 MiB of modelarts.vm.cpu.2u scaled down by "
                             "smoke_memory='256m' (8 GiB online) (peak "), reason
    [peak] = job.get_job_info()["peak_memory"]
    # it came to the limit and no further (a container's parent group also counts what Docker's runtime charged it
    # while starting the container, some hundred KiB)
    assert 200 * fl.MIB < peak < 264 * fl.MIB
    assert "allocated 400 MiB" not in job.logs()


def test_the_same_job_on_a_bigger_flavor_passes_and_reports_its_peak(session: Session, backend: str) -> None:
    job = run(session, backend, 400, **BIG)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert "allocated 400 MiB" in job.logs()
    [peak] = job.get_job_info()["peak_memory"]
    assert 400 * fl.MIB < peak < 1024 * fl.MIB
    usage = job.usage()
    assert usage is not None and usage.describe().startswith("peak ")
    assert usage.describe().endswith("of 1 GiB of modelarts.vm.cpu.8u scaled down by smoke_memory='1g' (32 GiB online)")


def test_the_job_sees_its_flavors_cores(session: Session, backend: str) -> None:
    one = run(session, backend, 0, flavor="modelarts.vm.cpu.2u", smoke_cpus=1)
    assert one.phase is JobPhase.COMPLETED, one.logs()
    assert "affinity=1 " in one.logs()
    assert "nproc=1 " in one.logs() or "nproc=none " in one.logs()  # the test image has no coreutils
    host = len(os.sched_getaffinity(0))
    capped = run(session, backend, 0, flavor="modelarts.vm.cpu.8u")  # 8 cores: capped by this machine's
    assert f"affinity={min(8, host)} " in capped.logs()
    if host < 8:
        assert f"8 CPUs asked, this machine has {host}: the job gets {host} (nproc shows {host})" in capped.logs()
    assert "[pytest-modelarts] limits (flavor modelarts.vm.cpu.8u):" in capped.logs()


def test_a_gpu_flavor_without_gpus_says_what_it_does_instead(session: Session, backend: str) -> None:
    if any(Path("/dev").glob("nvidia[0-9]*")):
        pytest.skip("this machine has a GPU: test_gpu.py covers it")  # the CPU fallback only applies without one
    job = run(session, backend, 0, flavor="modelarts.vm.gpu.pnt1.eco", smoke_memory="256m", smoke_cpus=1)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    log = job.logs()
    assert ("modelarts.vm.gpu.pnt1.eco has 1 x GP-Pnt1 GPU; this machine has none: the smoke run is on CPU with "
            "MA_NUM_GPUS=0 (online: 1)") in log
    assert "--nproc_per_node=$(( MA_NUM_GPUS > 0 ? MA_NUM_GPUS : 1 ))" in log
    assert "MA_NUM_GPUS=0" in log


def test_memory_without_a_flavor_is_enforced_too(session: Session, backend: str) -> None:
    job = run(session, backend, 300, memory="128m")
    assert job.phase is JobPhase.FAILED and job.exit_code == 137
    assert (job.failure_reason or "").startswith("out of memory: exceeded the memory limit of 128 MiB (memory=) (peak ")


def test_groups_that_a_killed_run_left_are_removed_by_the_next(cgroups: None) -> None:
    from pytest_modelarts.backends.local import limits

    found = limits.hierarchy()
    leftover = found.folders("0badc0de-0")["memory"]
    leftover.mkdir(parents=True)
    old = leftover.stat().st_mtime - 2 * limits.LEFTOVER_AGE
    os.utime(leftover, (old, old))
    fresh = found.folders("0badc0df-0")["memory"]  # a group being set up right now: never touched
    fresh.mkdir()
    try:
        limits._sweep_once.cache_clear()
        limits.JobGroups.create("feedbeef", 1, fl.Limits()).remove()
        assert not leftover.exists() and fresh.exists()
    finally:
        for folder in (leftover, fresh):
            if folder.exists():
                folder.rmdir()
