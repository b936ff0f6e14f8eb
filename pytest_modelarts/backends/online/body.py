"""The v2 job body (``huaweicloudsdkmodelarts.v1.model.Job``) of a configuration; the mapping is in docs/online.md.

``algorithm.working_dir`` says where the local run worked (the job plan's working directory in the v2 contract):
``MA_JOB_DIR`` (``/home/ma-user/modelarts/user-job-dir``) for boot-file jobs, ``MA_HOME`` (``/home/ma-user``) for
custom images, so the online job runs where the local one did. The input and the output are named after the
contract's directories: ModelArts downloads input ``<name>`` into ``inputs/<name>_0`` and uploads output ``<name>``
from ``outputs/<name>_0``, which the contract says are ``data_url_0`` and ``train_url_0``. Custom-image
hyperparameters become ``algorithm.environments``, whose documented rules (:func:`environment_problems`) the online
backend checks before anything is uploaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ...core import contract

if TYPE_CHECKING:
    from ...core.plan import JobPlan

#: ``algorithm.environments`` as "Creating a Training Job" documents it (opentelekomcloud-docs/modelarts
#: api-ref/source/training_management/creating_a_training_job.rst): names of letters, digits and underscores
#: not starting with a digit; key <= 8,192 and value <= 4,096 characters; <= 100 pairs; no ``$`` in values
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ENV_MAX_PAIRS, ENV_MAX_KEY, ENV_MAX_VALUE = 100, 8192, 4096


def environment_problems(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Why the API would refuse these ``algorithm.environments`` pairs (empty when it would not)."""
    pairs = list(pairs)
    problems = [f"at most {ENV_MAX_PAIRS} variables are allowed, got {len(pairs)}"] if len(pairs) > ENV_MAX_PAIRS else []
    for key, value in pairs:
        shown = key if len(key) <= 40 else key[:40] + "..."
        if len(key) > ENV_MAX_KEY or not ENV_NAME.fullmatch(key):
            problems.append(f"{shown!r} is not a variable name: letters, digits and '_', not starting with a digit, "
                            f"at most {ENV_MAX_KEY} characters")
        if len(value) > ENV_MAX_VALUE:
            problems.append(f"the value of {shown!r} is longer than {ENV_MAX_VALUE} characters")
        if "$" in value:
            problems.append(f"the value of {shown!r} contains '$' (variables cannot contain $)")
    return problems


#: the contract online jobs run under (promotion submits new-version jobs only)
LAYOUT = contract.V2_CONTRACT.layout()


def channel_name(directory: PurePosixPath) -> str:
    """The name of the input or output ModelArts puts at ``directory`` (``inputs/<name>_<i>``, ``outputs/<name>_<i>``)."""
    return directory.name.rpartition("_")[0]


#: the names of the job's input and output, those of the contract's ``--data_url`` and ``--train_url`` directories
INPUT_NAME, OUTPUT_NAME = channel_name(LAYOUT.data_url()), channel_name(LAYOUT.train_url())


def build_job_body(plan: JobPlan, *, code_url: str | None, inputs_url: str | None) -> Any:
    """The ``huaweicloudsdkmodelarts`` ``Job`` of ``plan`` (see the module docstring for the mapping)."""
    from huaweicloudsdkmodelarts.v1 import model as m

    config = plan.config
    algorithm = m.JobAlgorithm()
    if config.model_name is not None:
        algorithm.id = config.model_name
    if code_url is not None:
        algorithm.code_dir = code_url if code_url.endswith("/") else code_url + "/"
        if config.boot_file is not None:
            algorithm.boot_file = algorithm.code_dir + config.boot_file
    if config.is_custom_image or config.boot_file is not None:
        algorithm.working_dir = str(plan.working_dir(LAYOUT))
    if config.is_custom_image:
        algorithm.engine = m.JobEngine(image_url=config.user_image_url)
        algorithm.command = config.user_command
        if config.hyperparameters:
            algorithm.environments = dict(config.hyperparameters)
    else:
        engine = plan.engine
        if engine is not None:  # the catalog's names, whatever case or form (id or version) the job gave
            algorithm.engine = m.JobEngine(engine_name=engine.name, engine_version=engine.version)
        if config.hyperparameters:
            algorithm.parameters = [m.Parameters(name=k, value=v) for k, v in config.hyperparameters]
    if inputs_url is not None:
        algorithm.inputs = [m.Input(name=INPUT_NAME, remote=m.InputDataInfo(obs=m.InputDataInfoObs(obs_url=inputs_url)))]
    elif config.dataset_id is not None:
        algorithm.inputs = [m.Input(name=INPUT_NAME, remote=m.InputDataInfo(
            dataset=m.InputDataInfoDataset(id=config.dataset_id, version_id=config.dataset_version_id)))]
    if config.output_path is not None:
        out = config.output_path if config.output_path.endswith("/") else config.output_path + "/"
        algorithm.outputs = [m.Output(name=OUTPUT_NAME, remote=m.Remote(obs=m.RemoteObs(obs_url=out)))]
    spec = m.Spec(resource=m.SpecResource(flavor_id=config.train_instance_type, node_count=config.train_instance_count))
    if config.log_url is not None:
        spec.log_export_path = m.LogExportPath(obs_url=config.log_url if config.log_url.endswith("/") else config.log_url + "/")
    return m.Job(kind="job", metadata=m.JobMetadata(name=config.job_name, description=config.job_description),
                 algorithm=algorithm, spec=spec)
