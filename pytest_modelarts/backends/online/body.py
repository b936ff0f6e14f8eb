"""The v2 job body (``huaweicloudsdkmodelarts.v1.model.Job``) of a configuration; the mapping is in docs/online.md."""

from __future__ import annotations

from typing import Any

from ...core.job import JobConfig


def build_job_body(config: JobConfig, *, code_url: str | None, inputs_url: str | None) -> Any:
    """The ``huaweicloudsdkmodelarts`` ``Job`` for ``config`` (see the module docstring for the mapping)."""
    from huaweicloudsdkmodelarts.v1 import model as m

    algorithm = m.JobAlgorithm()
    if config.model_name is not None:
        algorithm.id = config.model_name
    if code_url is not None:
        algorithm.code_dir = code_url if code_url.endswith("/") else code_url + "/"
        if config.boot_file is not None:
            algorithm.boot_file = algorithm.code_dir + config.boot_file
    if config.is_custom_image:
        algorithm.engine = m.JobEngine(image_url=config.user_image_url)
        algorithm.command = config.user_command
        if config.hyperparameters:
            algorithm.environments = dict(config.hyperparameters)
    else:
        if config.framework_type is not None:
            algorithm.engine = m.JobEngine(engine_name=config.framework_type, engine_version=config.framework_version)
        if config.hyperparameters:
            algorithm.parameters = [m.Parameters(name=k, value=v) for k, v in config.hyperparameters]
    if inputs_url is not None:
        algorithm.inputs = [m.Input(name="data_url", remote=m.InputDataInfo(obs=m.InputDataInfoObs(obs_url=inputs_url)))]
    elif config.dataset_id is not None:
        algorithm.inputs = [m.Input(name="data_url", remote=m.InputDataInfo(
            dataset=m.InputDataInfoDataset(id=config.dataset_id, version_id=config.dataset_version_id)))]
    if config.output_path is not None:
        out = config.output_path if config.output_path.endswith("/") else config.output_path + "/"
        algorithm.outputs = [m.Output(name="train_url", remote=m.Remote(obs=m.RemoteObs(obs_url=out)))]
    spec = m.Spec(resource=m.SpecResource(flavor_id=config.train_instance_type, node_count=config.train_instance_count))
    if config.log_url is not None:
        spec.log_export_path = m.LogExportPath(obs_url=config.log_url if config.log_url.endswith("/") else config.log_url + "/")
    return m.Job(kind="job", metadata=m.JobMetadata(name=config.job_name, description=config.job_description),
                 algorithm=algorithm, spec=spec)
