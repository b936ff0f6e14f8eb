"""``Estimator``: the seed SDK's training-job object, with the seed's parameter rules enforced up front.

Every rule of the seed's Estimator and ``fit`` tables is checked before anything runs, and each failure is a
:class:`~pytest_modelarts.errors.ParameterError` naming the parameter, the value given and what is allowed.
Decisions where the seed is silent (documented in docs/sdk.md):

* Local runs without ``output_path`` write outputs to ``<run sandbox>/output``; without ``inputs`` the job's
  ``data_url`` is an empty directory.
* Local runs take local paths or ``file://`` URLs for ``code_dir``, ``inputs``, ``output_path`` and
  ``log_url``; ``obs://`` is for online jobs.
* Built-in algorithms (``model_name``) exist only online.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from . import contract
from .backends.base import collect_backends
from .config import LOCAL_INSTANCE_TYPE, ContainerOptions, JobConfig
from .environment import Environment
from .errors import ConfigurationError, ParameterError, unknown_keywords_error
from .job import TrainingJob
from .session import Session

JOB_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
INSTANCE_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
IMAGE_REF = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._/-][a-z0-9]+)*)?(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")
MAX_DESCRIPTION = 256

ESTIMATOR_PARAMETERS = (
    "modelarts_session", "train_instance_count", "code_dir", "boot_file", "model_name", "output_path",
    "hyperparameters", "log_url", "train_instance_type", "framework_type", "framework_version",
    "job_description", "user_image_url", "user_command", "environment",
    # ours
    "backend", "container_options",
)
FIT_PARAMETERS = ("inputs", "dataset_id", "dataset_version_id", "data_source", "wait", "job_name")


def _is_remote(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


def _local_path(url: str) -> Path:
    return Path(url.removeprefix("file://")).expanduser()


def _optional_str(owner: str, name: str, value: Any, *, allow_empty: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ParameterError(owner, name, value, "must be a non-empty str" + (" or os.PathLike" if name.endswith(("_dir", "_path", "_url")) or name == "inputs" else ""))
    return value


def generate_job_name() -> str:
    return time.strftime("job-%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class Estimator:
    """A training job's configuration, as in the ModelArts SDK.

    ``train_instance_type="local"`` runs the job on this machine under the ModelArts container contract;
    any other value is a ModelArts flavor and runs the job online. Our own keyword arguments:
    ``backend`` picks a backend by name (``"local"`` processes, ``"docker"`` containers, ``"online"``) and
    ``container_options`` (:class:`~pytest_modelarts.config.ContainerOptions`) isolates container runs.
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
        hyperparameters: list[Mapping[str, str]] | None = None,
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
        **unknown: Any,
    ) -> None:
        if unknown:
            raise unknown_keywords_error("Estimator", unknown, ESTIMATOR_PARAMETERS)
        if not isinstance(modelarts_session, Session):
            raise ParameterError("Estimator", "modelarts_session", modelarts_session, "is required: a pytest_modelarts.Session, e.g. Session()")
        self.session = modelarts_session
        # Stored as given; validated together in _validate so that every rule has one home.
        self._params: dict[str, Any] = dict(
            train_instance_count=train_instance_count, code_dir=code_dir, boot_file=boot_file,
            model_name=model_name, output_path=output_path, hyperparameters=hyperparameters, log_url=log_url,
            train_instance_type=train_instance_type, framework_type=framework_type,
            framework_version=framework_version, job_description=job_description, user_image_url=user_image_url,
            user_command=user_command, environment=environment, backend=backend,
            container_options=container_options,
        )
        self._template = validate_estimator(**self._params)

    # a readable repr: what runs where; the session's repr masks credentials
    def __repr__(self) -> str:
        t = self._template
        what = f"boot_file={t.boot_file!r}, code_dir={t.code_dir!r}" if t.code_dir else f"model_name={t.model_name!r}" if t.model_name else f"user_image_url={t.user_image_url!r}"
        return f"Estimator({what}, train_instance_type={t.train_instance_type!r}, train_instance_count={t.train_instance_count})"

    @property
    def config(self) -> JobConfig:
        """The validated configuration (job name and inputs are given to ``fit``)."""
        return self._template

    def with_overrides(self, **changes: Any) -> Estimator:
        """A copy with some Estimator parameters changed (validated again)."""
        unknown = set(changes) - set(self._params)
        if unknown:
            raise unknown_keywords_error("Estimator", unknown, ESTIMATOR_PARAMETERS)
        return Estimator(modelarts_session=self.session, **{**self._params, **changes})

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
        config = validate_fit(self._template, inputs=inputs, dataset_id=dataset_id,
                              dataset_version_id=dataset_version_id, data_source=data_source, job_name=job_name)
        if not isinstance(wait, bool):
            raise ParameterError("fit", "wait", wait, "must be a bool")
        job = start_job(config, self.session)
        if wait:
            job.wait()
            job.raise_for_status()
        return job


def start_job(config: JobConfig, session: Session) -> TrainingJob:
    """Hand a validated configuration to its backend (after plugins had their say) and return the job."""
    hook = session.plugin_manager.hook
    for overrides in hook.pytest_modelarts_modify_job(config=config, session=session):
        if overrides:
            config = revalidate(config, overrides)
    registry = collect_backends(session)
    name = config.backend or hook.pytest_modelarts_select_backend(config=config, session=session)
    backend = registry.get(name)(session)
    backend.validate(config)
    runtime = None
    if backend.needs_runtime:
        runtime = hook.pytest_modelarts_resolve_environment(environment=config.environment, config=config, session=session)
        if runtime is None:
            raise ConfigurationError(f"no plugin could provide the environment {config.environment!r}")
    job_id = secrets.token_hex(4)
    execution = backend.start(config, runtime, job_id=job_id)
    job = TrainingJob(config=config, job_id=execution.service_job_id or job_id, backend=name, execution=execution, session=session, runtime=runtime)
    hook.pytest_modelarts_job_started(job=job)
    return job


def revalidate(config: JobConfig, overrides: Mapping[str, Any]) -> JobConfig:
    """Apply field overrides to a config and validate the result like a new Estimator + fit."""
    known = {f.name for f in fields(JobConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise unknown_keywords_error("JobConfig", unknown, sorted(known))
    new = replace(config, **overrides)
    template = validate_estimator(
        train_instance_count=new.train_instance_count, code_dir=new.code_dir, boot_file=new.boot_file,
        model_name=new.model_name, output_path=new.output_path,
        hyperparameters=[{"label": k, "value": v} for k, v in new.hyperparameters], log_url=new.log_url,
        train_instance_type=new.train_instance_type, framework_type=new.framework_type,
        framework_version=new.framework_version, job_description=new.job_description,
        user_image_url=new.user_image_url, user_command=new.user_command, environment=new.environment,
        backend=new.backend, container_options=new.container,
    )
    return validate_fit(template, inputs=new.inputs, dataset_id=new.dataset_id,
                        dataset_version_id=new.dataset_version_id, data_source=new.data_source, job_name=new.job_name)


# -- the seed's rules ---------------------------------------------------------------------------------------

def validate_estimator(
    *,
    train_instance_count: Any,
    code_dir: Any,
    boot_file: Any,
    model_name: Any,
    output_path: Any,
    hyperparameters: Any,
    log_url: Any,
    train_instance_type: Any,
    framework_type: Any,
    framework_version: Any,
    job_description: Any,
    user_image_url: Any,
    user_command: Any,
    environment: Any,
    backend: Any,
    container_options: Any,
) -> JobConfig:
    E = "Estimator"
    # required
    if train_instance_type is None:
        raise ParameterError(E, "train_instance_type", None, "is required: 'local' to run on this machine, or a ModelArts flavor such as 'modelarts.vm.cpu.2u'")
    if not isinstance(train_instance_type, str) or not INSTANCE_TYPE.match(train_instance_type):
        raise ParameterError(E, "train_instance_type", train_instance_type, "must be 'local' or a flavor id such as 'modelarts.vm.cpu.2u'")
    local = train_instance_type == LOCAL_INSTANCE_TYPE
    if train_instance_count is None:
        raise ParameterError(E, "train_instance_count", None, "is required: the number of nodes, an int >= 1")
    if isinstance(train_instance_count, bool) or not isinstance(train_instance_count, int) or train_instance_count < 1:
        raise ParameterError(E, "train_instance_count", train_instance_count, "must be an int >= 1")

    code_dir = _optional_str(E, "code_dir", code_dir)
    boot_file = _optional_str(E, "boot_file", boot_file)
    model_name = _optional_str(E, "model_name", model_name)
    output_path = _optional_str(E, "output_path", output_path)
    log_url = _optional_str(E, "log_url", log_url)
    framework_type = _optional_str(E, "framework_type", framework_type)
    framework_version = _optional_str(E, "framework_version", framework_version)
    job_description = _optional_str(E, "job_description", job_description, allow_empty=True)
    user_image_url = _optional_str(E, "user_image_url", user_image_url)
    user_command = _optional_str(E, "user_command", user_command)
    backend = _optional_str(E, "backend", backend)

    # what runs: a built-in algorithm, a boot file in a code dir, or a custom image
    if model_name is not None:
        for name, value in (("code_dir", code_dir), ("boot_file", boot_file), ("framework_type", framework_type),
                            ("framework_version", framework_version), ("user_image_url", user_image_url)):
            if value is not None:
                raise ParameterError(E, name, value, f"must not be given with model_name={model_name!r} (a built-in algorithm brings its own code and engine)")
        if local:
            raise ParameterError(E, "model_name", model_name, "built-in algorithms run only online; for a local run give code_dir and boot_file")
    elif user_image_url is None and (code_dir is None or boot_file is None):
        missing = "code_dir" if code_dir is None else "boot_file"
        raise ParameterError(E, missing, None, "is required: give code_dir and boot_file (or model_name, or user_image_url with user_command)")
    if boot_file is not None and code_dir is None:
        raise ParameterError(E, "code_dir", None, f"is required with boot_file={boot_file!r}: the boot file must lie inside code_dir")

    if user_image_url is not None:
        if not IMAGE_REF.match(user_image_url):
            raise ParameterError(E, "user_image_url", user_image_url, "must be an image reference such as 'swr.cn-north-4.myhuaweicloud.com/org/image:tag'")
        for name, value in (("framework_type", framework_type), ("framework_version", framework_version)):
            if value is not None:
                raise ParameterError(E, name, value, "must not be given with user_image_url: a custom image brings its own engine")
        if user_command is None and boot_file is None:
            raise ParameterError(E, "user_command", None, "is required with user_image_url (the container's start command), unless a boot_file is given")
    elif user_command is not None:
        raise ParameterError(E, "user_command", user_command, "is the start command of a custom image: give user_image_url too")
    if framework_version is not None and framework_type is None:
        raise ParameterError(E, "framework_version", framework_version, "needs framework_type (e.g. 'PyTorch')")
    if job_description is not None and len(job_description) > MAX_DESCRIPTION:
        raise ParameterError(E, "job_description", job_description, f"must be at most {MAX_DESCRIPTION} characters")

    boot_rel = None
    if code_dir is not None:
        code_dir, boot_rel = _check_code(code_dir, boot_file, local=local)
    if output_path is not None:
        _check_location(E, "output_path", output_path, local=local, must_exist=False)
    if log_url is not None:
        _check_location(E, "log_url", log_url, local=local, must_exist=False)

    hp = _check_hyperparameters(hyperparameters)

    if environment is not None and not isinstance(environment, Environment):
        raise ParameterError(E, "environment", environment, "must be a pytest_modelarts.Environment or None")
    if environment is not None:
        environment = environment.snapshot()
    if container_options is None:
        container_options = ContainerOptions()
    elif not isinstance(container_options, ContainerOptions):
        raise ParameterError(E, "container_options", container_options, "must be a pytest_modelarts.ContainerOptions")
    _check_container(container_options)
    if backend is not None and backend != "online" and not local:
        raise ParameterError(E, "backend", backend, f"runs jobs on this machine: use it with train_instance_type='local' (got {train_instance_type!r})")

    return JobConfig(
        job_name="unnamed", train_instance_type=train_instance_type, train_instance_count=train_instance_count,
        code_dir=code_dir, boot_file=boot_rel, model_name=model_name, output_path=output_path, log_url=log_url,
        hyperparameters=hp, framework_type=framework_type, framework_version=framework_version,
        job_description=job_description, user_image_url=user_image_url, user_command=user_command,
        environment=environment, backend=backend, container=container_options,
    )


def _check_code(code_dir: str, boot_file: str | None, *, local: bool) -> tuple[str, str | None]:
    E = "Estimator"
    if _is_remote(code_dir):
        if local:
            raise ParameterError(E, "code_dir", code_dir, "a local run needs a local directory or file:// URL (obs:// code is for online jobs)")
        if not code_dir.startswith("obs://"):
            raise ParameterError(E, "code_dir", code_dir, "must be a local directory, a file:// URL or an obs:// URL")
        if boot_file is None:
            return code_dir, None
        rel = PurePosixPath(boot_file.removeprefix(code_dir.rstrip("/") + "/"))
        if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".py":
            raise ParameterError(E, "boot_file", boot_file, f"must be a .py file inside code_dir {code_dir!r}")
        return code_dir, rel.as_posix()
    path = _local_path(code_dir)
    if not path.is_dir():
        raise ParameterError(E, "code_dir", code_dir, "must be an existing directory")
    root = path.resolve()
    n_files = 0
    n_bytes = 0
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        n_files += len(files)
        n_bytes += sum((Path(base) / f).stat().st_size for f in files if (Path(base) / f).is_file())
        if n_files > contract.MAX_CODE_FILES:
            raise ParameterError(E, "code_dir", code_dir, f"holds more than {contract.MAX_CODE_FILES} files, the ModelArts limit for a code directory")
    if n_bytes > contract.MAX_CODE_BYTES:
        raise ParameterError(E, "code_dir", code_dir, f"holds {n_bytes} bytes, over the ModelArts limit of 5 GB")
    if boot_file is None:
        return str(root), None
    given = Path(boot_file).expanduser()
    candidate = given if given.is_absolute() else root / given
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise ParameterError(E, "boot_file", boot_file, f"must lie inside code_dir {str(root)!r}")
    if resolved.suffix != ".py":
        raise ParameterError(E, "boot_file", boot_file, "must be a .py file")
    if not resolved.is_file():
        raise ParameterError(E, "boot_file", boot_file, f"does not exist in code_dir {str(root)!r}")
    return str(root), resolved.relative_to(root).as_posix()


def _check_location(owner: str, name: str, value: str, *, local: bool, must_exist: bool) -> None:
    if _is_remote(value):
        if local:
            raise ParameterError(owner, name, value, "a local run takes a local path or a file:// URL (obs:// is for online jobs)")
        if not value.startswith("obs://"):
            raise ParameterError(owner, name, value, "must be an obs:// URL, a local path or a file:// URL")
        return
    path = _local_path(value)
    if must_exist and not path.exists():
        raise ParameterError(owner, name, value, "does not exist")
    if path.exists() and name != "inputs" and not path.is_dir():
        raise ParameterError(owner, name, value, "must be a directory")


def _check_hyperparameters(hyperparameters: Any) -> tuple[tuple[str, str], ...]:
    E = "Estimator"
    if hyperparameters is None:
        return ()
    if not isinstance(hyperparameters, (list, tuple)):
        raise ParameterError(E, "hyperparameters", hyperparameters, 'must be a list of {"label": str, "value": str}')
    seen: set[str] = set()
    result = []
    for item in hyperparameters:
        if not isinstance(item, Mapping) or set(item) != {"label", "value"}:
            raise ParameterError(E, "hyperparameters", item, 'every item must be a dict with exactly the keys "label" and "value"')
        label, value = item["label"], item["value"]
        if not isinstance(label, str) or not contract.valid_hyperparameter_label(label):
            raise ParameterError(E, "hyperparameters", item, "label must be a str of letters, digits, '_', '.', '-' starting with a letter or '_' (it becomes --label=value)")
        if not isinstance(value, str):
            raise ParameterError(E, "hyperparameters", item, f"value must be a str (got {type(value).__name__}); write {str(value)!r}")
        if label in seen:
            raise ParameterError(E, "hyperparameters", item, f"label {label!r} is given twice")
        if label in ("data_url", "train_url"):
            raise ParameterError(E, "hyperparameters", item, f"label {label!r} is set by the platform from inputs/output_path")
        seen.add(label)
        result.append((label, value))
    return tuple(result)


def _check_container(options: ContainerOptions) -> None:
    C = "ContainerOptions"
    if options.network_mode not in (None, "none", "bridge"):
        raise ParameterError(C, "network_mode", options.network_mode, "must be None, 'none' or 'bridge'")
    if options.cpus is not None and (isinstance(options.cpus, bool) or not isinstance(options.cpus, (int, float)) or options.cpus <= 0):
        raise ParameterError(C, "cpus", options.cpus, "must be a number > 0")
    if options.memory is not None and not (isinstance(options.memory, str) and re.match(r"^\d+[bkmg]?$", options.memory.lower())):
        raise ParameterError(C, "memory", options.memory, "must be a size such as '512m' or '2g'")
    if options.gpus is not None and (isinstance(options.gpus, bool) or not isinstance(options.gpus, int) or options.gpus < -1 or options.gpus == 0):
        raise ParameterError(C, "gpus", options.gpus, "must be a positive int, or -1 for all")
    if options.user is not None and not (isinstance(options.user, str) and re.match(r"^\d+(:\d+)?$", options.user)):
        raise ParameterError(C, "user", options.user, "must be 'uid' or 'uid:gid' (numbers)")


def validate_fit(
    template: JobConfig,
    *,
    inputs: Any,
    dataset_id: Any,
    dataset_version_id: Any,
    data_source: Any,
    job_name: Any,
) -> JobConfig:
    F = "fit"
    inputs = _optional_str(F, "inputs", inputs)
    dataset_id = _optional_str(F, "dataset_id", dataset_id)
    dataset_version_id = _optional_str(F, "dataset_version_id", dataset_version_id)
    if (dataset_id is None) != (dataset_version_id is None):
        missing = "dataset_version_id" if dataset_version_id is None else "dataset_id"
        raise ParameterError(F, missing, None, "dataset_id and dataset_version_id must be given together")
    given = [name for name, value in (("inputs", inputs), ("dataset_id", dataset_id), ("data_source", data_source)) if value is not None]
    if len(given) > 1:
        raise ParameterError(F, given[1], {"inputs": inputs, "dataset_id": dataset_id, "data_source": data_source}[given[1]],
                             f"give exactly one of inputs, dataset_id + dataset_version_id, data_source (got {' and '.join(given)})")
    if template.is_local:
        if dataset_id is not None:
            raise ParameterError(F, "dataset_id", dataset_id, "local training supports only inputs (a local directory or file:// URL)")
        if data_source is not None:
            raise ParameterError(F, "data_source", data_source, "local training supports only inputs (a local directory or file:// URL)")
    elif not given:
        raise ParameterError(F, "inputs", None, "an online job needs its data: give inputs (obs:// or local), or dataset_id + dataset_version_id, or data_source")
    if inputs is not None:
        if template.is_local or not _is_remote(inputs):
            _check_location(F, "inputs", inputs, local=True, must_exist=True)
        elif not inputs.startswith("obs://"):
            raise ParameterError(F, "inputs", inputs, "must be an obs:// URL, a local path or a file:// URL")
    if job_name is None:
        job_name = generate_job_name()
    elif not isinstance(job_name, str) or not JOB_NAME.match(job_name):
        raise ParameterError(F, "job_name", job_name, "must match [a-zA-Z0-9_-]{1,64}")
    if not template.is_local and template.output_path is None:
        raise ParameterError("Estimator", "output_path", None, "is required for an online job: an obs:// directory for the outputs")
    return replace(template, job_name=job_name, inputs=inputs, dataset_id=dataset_id,
                   dataset_version_id=dataset_version_id, data_source=data_source)
