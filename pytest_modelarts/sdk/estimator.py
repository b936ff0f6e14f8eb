"""``Estimator``: the ModelArts SDK's training-job object.

It is a facade: its keywords become a :class:`~pytest_modelarts.core.job.JobConfig` (every rule of the SDK's
Estimator and ``fit`` tables, checked before anything runs, lives in :mod:`pytest_modelarts.core.rules`), and
``fit()`` hands the job to :func:`pytest_modelarts.core.runner.start_job`. Decisions where the SDK reference is silent
(docs/sdk.md): local runs without ``output_path`` write outputs to ``<run sandbox>/output``; without ``inputs``
the job's ``data_url`` is an empty directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

from ..core.container import ContainerOptions
from ..core.environment import Environment
from ..core.hyperparameters import check_hyperparameters
from ..core.job import JobConfig
from ..core.objectstore import LocalObs
from ..core.runner import start_job
from ..core.session import Session
from ..core.training_job import TrainingJob
from ..errors import ParameterError, unknown_keywords_error

ESTIMATOR_PARAMETERS = (
    "modelarts_session", "train_instance_count", "code_dir", "boot_file", "model_name", "output_path",
    "hyperparameters", "log_url", "train_instance_type", "framework_type", "framework_version",
    "job_description", "user_image_url", "user_command", "environment",
    # ours
    "backend", "container_options", "contract", "obs_root",
)
FIT_PARAMETERS = ("inputs", "dataset_id", "dataset_version_id", "data_source", "wait", "job_name")


class Estimator:
    """A training job's configuration, as in the ModelArts SDK.

    ``train_instance_type="local"`` runs the job on this machine under the ModelArts container contract;
    any other value is a ModelArts flavor and runs the job online. Our own keyword arguments:
    ``backend`` picks a backend by name (``"local"`` processes, ``"docker"`` containers, ``"online"``),
    ``container_options`` (:class:`~pytest_modelarts.ContainerOptions`) isolates container runs, and
    ``contract`` picks ``"v2"`` (new-version training) or ``"v1"`` (old) for this job (default: the session's), and
    ``obs_root`` gives it a local OBS of its own (default: the session's; see ``Session(obs_root=...)``).
    """

    def __init__(
        self,
        *,
        modelarts_session: Session | None = None,
        train_instance_count: int | None = None,
        code_dir: str | os.PathLike[str] | None = None,
        boot_file: str | os.PathLike[str] | None = None,
        model_name: str | None = None,
        output_path: str | os.PathLike[str] | None = None,
        hyperparameters: list[Mapping[str, str]] | Mapping[str, str | int | float | bool] | None = None,
        log_url: str | os.PathLike[str] | None = None,
        train_instance_type: str | None = None,
        framework_type: str | None = None,
        framework_version: str | None = None,
        job_description: str | None = None,
        user_image_url: str | None = None,
        user_command: str | None = None,
        environment: Environment | None = None,
        backend: str | None = None,
        container_options: ContainerOptions | None = None,
        contract: str | None = None,
        obs_root: object = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise unknown_keywords_error("Estimator", unknown, ESTIMATOR_PARAMETERS)
        if not isinstance(modelarts_session, Session):
            raise ParameterError("Estimator", "modelarts_session", modelarts_session, "is required: a pytest_modelarts.Session, e.g. Session()")
        self.session = modelarts_session
        self._config = JobConfig.template(
            train_instance_count=train_instance_count, code_dir=code_dir, boot_file=boot_file, model_name=model_name,
            output_path=output_path, hyperparameters=hyperparameters, log_url=log_url,
            train_instance_type=train_instance_type, framework_type=framework_type,
            framework_version=framework_version, job_description=job_description, user_image_url=user_image_url,
            user_command=user_command, environment=environment, backend=backend, container=container_options,
            contract=contract, code_excludes=(modelarts_session.local_root,),
            local_obs=LocalObs.parse(obs_root, owner="Estimator") if obs_root is not None else modelarts_session.obs_root,
        )

    @classmethod
    def from_config(cls, config: JobConfig, session: Session) -> Self:
        """An Estimator of a configuration the rules checked already (a template, or a fitted one ``fit`` may change)."""
        estimator = cls.__new__(cls)
        estimator.session = session
        estimator._config = config
        return estimator

    # a readable repr: what runs where; the session's repr masks credentials
    def __repr__(self) -> str:
        t = self._config
        what = (f"boot_file={t.boot_file!r}, code_dir={t.code_dir!r}" if t.code_dir else f"model_name={t.model_name!r}"
                if t.model_name else f"user_image_url={t.user_image_url!r}")
        return f"Estimator({what}, train_instance_type={t.train_instance_type!r}, train_instance_count={t.train_instance_count})"

    @property
    def config(self) -> JobConfig:
        """The validated configuration (job name and inputs are given to ``fit``)."""
        return self._config

    def with_overrides(self, **changes: Any) -> Estimator:
        """A copy with some Estimator parameters changed (only the rules a change can affect run again).

        ``hyperparameters`` are merged: the labels given take the new values, the others keep theirs
        (``with_overrides(hyperparameters={"epochs": 1})`` changes only ``--epochs``). To replace them all, evolve
        the configuration: ``Estimator.from_config(est.config.evolve(hyperparameters=...), est.session)``.
        """
        unknown = set(changes) - set(ESTIMATOR_PARAMETERS[1:])
        if unknown:
            raise unknown_keywords_error("Estimator", unknown, ESTIMATOR_PARAMETERS)
        if changes.get("hyperparameters") is not None:
            given = check_hyperparameters(changes["hyperparameters"], owner="Estimator")
            changes["hyperparameters"] = self._config.hyperparameters.updated(given)
        if "container_options" in changes:
            changes["container"] = changes.pop("container_options")
        if "obs_root" in changes:
            changes["local_obs"] = LocalObs.parse(changes.pop("obs_root"), owner="Estimator")
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._config = self._config.evolve(**changes)
        return copy

    def fit(
        self,
        inputs: str | os.PathLike[str] | None = None,
        dataset_id: str | None = None,
        dataset_version_id: str | None = None,
        data_source: Any = None,
        wait: bool = False,
        job_name: str | None = None,
        **unknown: Any,
    ) -> TrainingJob:
        """Start the job; with ``wait=True`` wait for it and raise if it did not complete."""
        if unknown:
            raise unknown_keywords_error("fit", unknown, FIT_PARAMETERS)
        config = self._config.fit(inputs=inputs, dataset_id=dataset_id, dataset_version_id=dataset_version_id,
                                  data_source=data_source, job_name=job_name)
        if not isinstance(wait, bool):
            raise ParameterError("fit", "wait", wait, "must be a bool")
        job = start_job(config, self.session)
        if wait:
            job.wait()
            job.raise_for_status()
        return job
