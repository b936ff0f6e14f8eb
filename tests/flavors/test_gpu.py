"""A GPU flavor where this machine has GPUs: the flavor's count in MA_NUM_GPUS and CUDA_VISIBLE_DEVICES, as online.

Runs only where ``/dev/nvidia*`` exists (``PYTEST_MODELARTS_REQUIRE=gpu`` makes its absence a failure); without
GPUs, ``test_limits.py::test_a_gpu_flavor_without_gpus_says_what_it_does_instead`` holds the CPU fallback.
"""

from __future__ import annotations

from pathlib import Path

from pytest_modelarts import ContainerOptions, Estimator, JobPhase, Session
from tests.support.requirements import missing

from .conftest import CODE


def test_a_gpu_flavor_gets_its_gpus_in_a_sandboxed_node(session: Session) -> None:
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        missing("gpu", "this machine has no NVIDIA GPU (/dev/nvidia*)")
    job = Estimator(modelarts_session=session, code_dir=str(CODE), boot_file="hog.py", train_instance_type="local",
                    train_instance_count=1,
                    container_options=ContainerOptions(flavor="modelarts.vm.gpu.pnt1.eco", smoke_memory="1g")).fit(wait=False)
    job.wait(300)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert "MA_NUM_GPUS=1" in job.logs() and "this machine has none" not in job.logs()
    assert "--num_gpus=1" in " ".join(job.get_job_info()["command"])
