"""``JobConfig``: one validated training job, the value that flows from the Estimator to a backend.

The Estimator validates what the user gave (see :mod:`pytest_modelarts.estimator`) and freezes it here;
backends only read it. ``dataclasses.replace`` makes variants (the plugin's smoke overrides, promotion's
instance type) which go through validation again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .environment import Environment

LOCAL_INSTANCE_TYPE = "local"


@dataclass(frozen=True)
class ContainerOptions:
    """How a job's containers are isolated (our addition; the Docker backend reads it).

    ``network_mode="none"`` cuts the job off any network; ``cpus`` and ``memory`` (e.g. ``"512m"``) limit it,
    and a job killed for memory reports exit 137 as out-of-memory; ``gpus`` requests that many GPUs (all
    with -1); ``user`` is the ``uid[:gid]`` the job runs as (default: the image's user; output files are
    given to the invoking user afterwards either way).
    """

    network_mode: str | None = None
    cpus: float | None = None
    memory: str | None = None
    gpus: int | None = None
    user: str | None = None


@dataclass(frozen=True)
class JobConfig:
    """Everything a backend needs to run one job. Build it through :class:`~pytest_modelarts.Estimator`."""

    job_name: str
    train_instance_type: str
    train_instance_count: int = 1
    code_dir: str | None = None
    boot_file: str | None = None  # relative to code_dir, POSIX separators
    model_name: str | None = None
    output_path: str | None = None
    log_url: str | None = None
    hyperparameters: tuple[tuple[str, str], ...] = ()
    framework_type: str | None = None
    framework_version: str | None = None
    job_description: str | None = None
    user_image_url: str | None = None
    user_command: str | None = None
    environment: Environment | None = None
    inputs: str | None = None
    dataset_id: str | None = None
    dataset_version_id: str | None = None
    data_source: Any = None
    backend: str | None = None  # our addition: force a backend by name ("local", "docker", "online")
    container: ContainerOptions = field(default_factory=ContainerOptions)

    @property
    def is_local(self) -> bool:
        return self.train_instance_type == LOCAL_INSTANCE_TYPE

    @property
    def is_custom_image(self) -> bool:
        return self.user_image_url is not None

    @property
    def code_path(self) -> Path | None:
        """The code directory as a local path, when it is one."""
        if self.code_dir is None or "://" in self.code_dir and not self.code_dir.startswith("file://"):
            return None
        return Path(self.code_dir.removeprefix("file://"))

    def fingerprint(self) -> str:
        """A stable hash of the configuration, independent of the job name."""
        data = asdict(self)
        data.pop("job_name")
        if self.environment is not None:
            data["environment"] = {"name": self.environment.name,
                                   "conda": self.environment.conda.to_dict() if self.environment.conda else None}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
