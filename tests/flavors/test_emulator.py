"""The emulator's flavor API and its refusals, through the official SDK over HTTP, as ModelArts answers them."""

from __future__ import annotations

import os
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkmodelarts.v1 import CreateTrainingJobRequest, ShowTrainingJobFlavorsRequest

from pytest_modelarts import Estimator, OnlineError
from pytest_modelarts.backends.online.clients import Clients
from pytest_modelarts.core import flavors as fl

from .conftest import CODE


def body(flavor_id: str, count: int) -> dict[str, Any]:
    """A create body the emulator accepts but for its flavor and node count."""
    return {"kind": "job", "metadata": {"name": "flavored"},
            "algorithm": {"code_dir": "obs://emulator-bucket/code/", "boot_file": "obs://emulator-bucket/code/hog.py",
                          "engine": {"engine_name": "PyTorch", "engine_version": "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64"}},
            "spec": {"resource": {"flavor_id": flavor_id, "node_count": count}}}


def test_the_flavor_list_is_the_catalogs(modelarts_emulator: Any) -> None:
    client = Clients.of(modelarts_emulator.session()).modelarts
    answer = client.show_training_job_flavors(ShowTrainingJobFlavorsRequest())
    assert answer.total_count == len(fl.CATALOG)
    by_id = {f.flavor_id: f for f in answer.flavors}
    cpu2 = by_id["modelarts.vm.cpu.2u"]
    assert (cpu2.flavor_type, cpu2.flavor_info.max_num, cpu2.flavor_info.cpu.core_num, cpu2.flavor_info.memory.size) == ("CPU", 1, 2, 8)
    gpus = client.show_training_job_flavors(ShowTrainingJobFlavorsRequest(flavor_type="GPU"))
    assert {f.flavor_type for f in gpus.flavors} == {"GPU"} and gpus.flavors[0].flavor_info.gpu.unit_num == 1


@pytest.mark.parametrize(("flavor_id", "count", "code", "message"), [
    ("modelarts.vm.cpu.2u", 2, "ModelArts.2793", "The number of flavor instances (2) exceeds the maximum (1)."),
    ("modelarts.vm.cpu.64u", 1, "ModelArts.2781", "Flavor (modelarts.vm.cpu.64u) not found."),
])
def test_a_create_request_over_max_num_or_of_an_unknown_flavor_is_refused(
        modelarts_emulator: Any, flavor_id: str, count: int, code: str, message: str) -> None:
    client = Clients.of(modelarts_emulator.session()).modelarts
    with pytest.raises(ClientRequestException) as info:
        client.create_training_job(CreateTrainingJobRequest(body=body(flavor_id, count)))
    assert (info.value.status_code, info.value.error_code) == (400, code)
    assert message in info.value.error_msg
    assert modelarts_emulator.jobs() == []  # nothing runs


def test_an_estimator_of_an_unknown_flavor_gets_the_services_refusal(modelarts_emulator: Any, tmp_path: Any) -> None:
    est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir=str(CODE), boot_file="hog.py", framework_type="PyTorch",
                    train_instance_type="modelarts.vm.cpu.64u", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(OnlineError, match=r"ModelArts.2781|Flavor \(modelarts.vm.cpu.64u\) not found"):
        est.fit(inputs=str(CODE))
    assert modelarts_emulator.jobs() == []


def test_an_emulated_job_runs_with_its_flavors_cores_and_memory(modelarts_emulator: Any) -> None:
    est = Estimator(modelarts_session=modelarts_emulator.session(), code_dir=str(CODE), boot_file="hog.py", framework_type="PyTorch",
                    train_instance_type="modelarts.vm.cpu.2u", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    job = est.fit(inputs=str(CODE), wait=True)
    log = job.logs()
    assert "[pytest-modelarts] limits (flavor modelarts.vm.cpu.2u): 2 CPUs, 8 GiB of memory per worker" in log
    assert f"affinity={min(2, len(os.sched_getaffinity(0)))} " in log
