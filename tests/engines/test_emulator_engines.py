"""The emulator lists the catalog's engines and refuses a create request naming an unknown engine, or none.

Through the official SDK's client, signed, as any client of the API: ``show_training_job_engines`` and
``create_training_job``; errors have the API's shape (``error_code``, ``error_msg``) and the codes of its
appendix ("Error Codes": ``ModelArts.2780`` EngineNotFound, ``ModelArts.2830`` MustHaveEngineId).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_modelarts.backends.online.clients import Clients
from pytest_modelarts.core import engines


def _body(**engine: str) -> Any:
    from huaweicloudsdkmodelarts.v1 import model as m

    algorithm = m.JobAlgorithm(code_dir="obs://emulator-bucket/code/", boot_file="obs://emulator-bucket/code/train.py",
                               engine=m.JobEngine(**engine) if engine else None)
    return m.Job(kind="job", metadata=m.JobMetadata(name="engine-check"), algorithm=algorithm,
                 spec=m.Spec(resource=m.SpecResource(flavor_id="modelarts.vm.cpu.2u", node_count=1)))


def _create(modelarts_emulator: Any, body: Any) -> Any:
    from huaweicloudsdkmodelarts.v1 import model as m

    clients = Clients.of(modelarts_emulator.session())
    return clients.modelarts.create_training_job(m.CreateTrainingJobRequest(body=body))


def test_the_engines_route_serves_the_catalog(modelarts_emulator) -> None:
    from huaweicloudsdkmodelarts.v1 import model as m

    clients = Clients.of(modelarts_emulator.session())
    answer = clients.modelarts.show_training_job_engines(m.ShowTrainingJobEnginesRequest()).to_json_object()
    assert answer["total"] == len(engines.catalog())
    by_id = {item["engine_id"]: item for item in answer["items"]}
    pytorch = by_id["pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64"]
    assert (pytorch["engine_name"], pytorch["run_user"], pytorch["v1_compatible"]) == ("PyTorch", "1102", False)
    assert pytorch["image_info"]["cpu_image_url"] == "aip/pytorch_1_8:train"


@pytest.mark.parametrize("engine", [dict(engine_name="PyTorch", engine_version="pytorch_9.9"), dict(engine_id="torch-1.0")])
def test_an_unknown_engine_is_refused_with_the_apis_error(modelarts_emulator, engine: dict[str, str]) -> None:
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    with pytest.raises(ClientRequestException) as refused:
        _create(modelarts_emulator, _body(**engine))
    assert refused.value.status_code == 400 and refused.value.error_code == "ModelArts.2780"
    assert "not found" in refused.value.error_msg and "PyTorch (pytorch_1.8.0" in refused.value.error_msg
    assert modelarts_emulator.jobs() == []


def test_a_body_without_engine_or_image_is_refused_with_the_apis_error(modelarts_emulator) -> None:
    session = modelarts_emulator.session()
    clients = Clients.of(session)
    body = _body().to_dict()
    body["algorithm"].pop("engine", None)
    # the raw answer, as the service sends it: {"error_code": ..., "error_msg": ...}
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    from huaweicloudsdkmodelarts.v1 import model as m

    with pytest.raises(ClientRequestException) as refused:
        clients.modelarts.create_training_job(m.CreateTrainingJobRequest(body=body))
    assert refused.value.status_code == 400 and refused.value.error_code == "ModelArts.2830"
    assert "algorithm.engine: is required" in refused.value.error_msg
    assert modelarts_emulator.jobs() == []


def test_the_error_body_has_the_apis_shape(modelarts_emulator) -> None:
    service = modelarts_emulator.emulator.training
    answer = service.handle("POST", f"/v2/{service.project_id}/training-jobs", "", json.dumps(_body().to_dict()).encode())
    assert answer.status == 400
    assert set(json.loads(answer.body)) == {"error_code", "error_msg"}


def test_a_known_engine_is_accepted(modelarts_emulator) -> None:
    created = _create(modelarts_emulator, _body(engine_name="TensorFlow", engine_version="tensorflow_2.1.0-cuda_10.1-py_3.7-ubuntu_18.04-x86_64"))
    assert created.metadata.id
