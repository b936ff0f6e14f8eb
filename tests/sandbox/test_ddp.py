"""PyTorch DDP (gloo, CPU) across two sandboxed workers, rendezvous through the first of VC_WORKER_HOSTS.

torch is not a dependency: the test runs with an interpreter that has it (the current one, or the one named by
``PYTEST_MODELARTS_TORCH_PYTHON``) and skips where there is none. docs/sandbox.md records a run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from pytest_modelarts import Estimator, JobPhase, Session
from tests.support.requirements import missing

from .conftest import CODE


def torch_python() -> str | None:
    if importlib.util.find_spec("torch") is not None:
        return sys.executable
    named = os.environ.get("PYTEST_MODELARTS_TORCH_PYTHON")
    if named and subprocess.run([named, "-c", "import torch"], capture_output=True).returncode == 0:
        return named
    return None


def test_ddp_with_gloo_across_two_sandboxed_workers(tmp_path: Path) -> None:
    python = torch_python()
    if python is None:
        missing("torch", "torch is not installed (set PYTEST_MODELARTS_TORCH_PYTHON to an interpreter that has it)")
    session = Session(local_root=tmp_path / "root", stream_logs=False, sandbox=True, local_python=python)
    job = Estimator(modelarts_session=session, code_dir=CODE, boot_file="ddp.py", train_instance_type="local",
                    train_instance_count=2).fit(wait=False)
    assert job.wait(300) is JobPhase.COMPLETED, job.logs(0) + job.logs(1)
    assert "rank 0: all_reduce 3.0" in job.logs(0) and "rank 1: all_reduce 3.0" in job.logs(1)
    gradients = [line.split("gradient ")[1] for i in range(2) for line in job.logs(i).splitlines() if "gradient" in line]
    assert len(gradients) == 2 and gradients[0] == gradients[1]  # DDP averaged them across the nodes
