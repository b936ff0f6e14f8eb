"""``JobConfig``: one validated training job, the value that flows from the SDK (or the pytest plugin) to a backend.

It is made at a boundary from the user's keywords, checked by every rule of :mod:`~pytest_modelarts.core.rules`,
and never changed in place: :meth:`JobConfig.evolve` makes a variant (a smoke override, promotion's flavor, a
plugin's ``pytest_modelarts_modify_job``) and re-checks only the rules that read a changed field.

Two stages, as in the SDK: :meth:`JobConfig.template` holds the Estimator's parameters (``fitted`` is False);
:meth:`JobConfig.fit` adds ``fit``'s (inputs, job name) and checks the rules that need both.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import unknown_keywords_error
from . import rules
from .codetree import CodeTree
from .container import ContainerOptions
from .contract import Version
from .environment import Environment
from .hyperparameters import Hyperparameters
from .location import Location
from .objectstore import LocalObs

LOCAL_INSTANCE_TYPE = rules.LOCAL_INSTANCE_TYPE
#: the Estimator's parameters that are fields of a JobConfig (``container_options`` is stored as ``container``)
ESTIMATOR_FIELDS = ("train_instance_type", "train_instance_count", "code_dir", "boot_file", "model_name", "output_path",
                    "log_url", "hyperparameters", "framework_type", "framework_version", "job_description",
                    "user_image_url", "user_command", "environment", "backend", "container", "contract", "code_excludes",
                    "local_obs")
FIT_FIELDS = ("inputs", "dataset_id", "dataset_version_id", "data_source", "job_name")


def generate_job_name() -> str:
    return time.strftime("job-%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass(frozen=True)
class JobConfig:
    """Everything a backend needs to run one job. Make it with :meth:`template` and :meth:`fit` (or an Estimator)."""

    job_name: str
    train_instance_type: str
    train_instance_count: int = 1
    code_dir: Location | None = None
    boot_file: str | None = None  # relative to code_dir, POSIX separators
    model_name: str | None = None
    output_path: Location | None = None
    log_url: Location | None = None
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    framework_type: str | None = None
    framework_version: str | None = None
    job_description: str | None = None
    user_image_url: str | None = None
    user_command: str | None = None
    environment: Environment | None = None
    inputs: Location | None = None
    dataset_id: str | None = None
    dataset_version_id: str | None = None
    data_source: Any = None
    backend: str | None = None  # our addition: force a backend by name ("local", "docker", "online")
    container: ContainerOptions = field(default_factory=ContainerOptions)
    contract: Version | None = None  # our addition: "v2" (new-version training) or "v1"; None: the session's
    #: paths left out of the code tree wherever they lie (the run root of the session): see core.codetree
    code_excludes: tuple[Path, ...] = field(default=(), compare=False, repr=False)
    #: the session's local OBS, through which a local run's obs:// locations resolve (core.objectstore)
    local_obs: LocalObs | None = field(default=None, compare=False, repr=False)
    fitted: bool = field(default=False, compare=False, repr=False)

    # -- making and changing ------------------------------------------------------------------------
    @classmethod
    def template(cls, **estimator: Any) -> JobConfig:
        """The Estimator's parameters, checked; ``fit`` comes later. Missing fields take their defaults."""
        # fields without a plain default (none, or a default_factory) start as None, and the update below sets them so anyway
        values: dict[str, Any] = {f.name: None if f.default is MISSING else f.default for f in fields(cls) if f.name in ESTIMATOR_FIELDS}
        values.update(hyperparameters=None, container=None, train_instance_count=None, train_instance_type=None)
        unknown = set(estimator) - set(ESTIMATOR_FIELDS)
        if unknown:
            raise unknown_keywords_error("JobConfig", unknown, sorted(ESTIMATOR_FIELDS))
        values.update(estimator)
        rules.apply(values, stages=("estimator",))
        return cls(job_name="unnamed", **values)

    def fit(self, *, inputs: Any = None, dataset_id: Any = None, dataset_version_id: Any = None, data_source: Any = None,
            job_name: Any = None) -> JobConfig:
        """This template with ``fit``'s parameters, checked (a job name is generated when None)."""
        values = self._values()
        values.update(inputs=inputs, dataset_id=dataset_id, dataset_version_id=dataset_version_id, data_source=data_source,
                      job_name=generate_job_name() if job_name is None else job_name)
        rules.apply(values, stages=("fit",))
        return replace(self, fitted=True, **{k: values[k] for k in (*FIT_FIELDS, *ESTIMATOR_FIELDS)})

    def evolve(self, **changes: Any) -> JobConfig:
        """A copy with ``changes``, re-checked by the rules that read a changed field."""
        known = [f.name for f in fields(self) if f.name != "fitted"]
        unknown = set(changes) - set(known)
        if unknown:
            raise unknown_keywords_error("JobConfig", unknown, sorted(known))
        if not changes:
            return self
        values = self._values()
        values.update(changes)
        rules.apply(values, stages=("estimator", "fit") if self.fitted else ("estimator",), changed=set(changes))
        return replace(self, **{k: values[k] for k in values if k != "fitted"})

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- what it is -----------------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.train_instance_type == LOCAL_INSTANCE_TYPE

    @property
    def is_custom_image(self) -> bool:
        return self.user_image_url is not None

    @property
    def code_path(self) -> Path | None:
        """The code directory as a local path, when it is one."""
        return self.code_dir.path if self.code_dir is not None and self.code_dir.is_local else None

    def local_path(self, where: Location) -> Path:
        """Where a location of this job is on this machine: its own path, or its folder in the local OBS."""
        if where.is_local:
            return where.path
        if self.local_obs is None:
            raise ValueError(f"{str(where)!r} has no local path: this job has no local OBS")
        return self.local_obs.resolve(where)

    @property
    def code_tree(self) -> CodeTree | None:
        """The local code directory through the project's one code-tree policy (None for obs:// code)."""
        path = self.code_path
        return CodeTree(path, exclude=self.code_excludes) if path is not None else None

    @property
    def code_dir_name(self) -> str:
        """The code directory's last path segment: the folder ModelArts downloads it into."""
        return (self.code_dir.name if self.code_dir is not None else "") or "code"
