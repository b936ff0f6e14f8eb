"""``@pytest.mark.modelarts(...)`` and job-file entries: one smoke configuration, validated into a :class:`SmokeSpec`.

A smoke configuration is an Estimator configuration (the *full* one, meant for the online job) plus
*smoke overrides* used only for the local run. Which values each run uses:

===================  ====================================  ==========================================
value                local smoke run                       online (promotion)
===================  ====================================  ==========================================
hyperparameters      ``hyperparameters`` updated with      ``hyperparameters``
                     ``smoke_hyperparameters``
inputs               ``smoke_inputs``, else ``inputs``     ``online_inputs``, else ``inputs``
output_path          ``output_path`` (None: the sandbox)   ``online_output_path``, else ``output_path``
train_instance_type  ``"local"``                           ``train_instance_type``, else
                                                           ``--modelarts-instance-type``
===================  ====================================  ==========================================

Relative paths (``code_dir``, ``inputs``, ``smoke_inputs``, ``output_path``, an environment file) are taken
relative to the directory of the test file or job file that names them.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.container import ContainerOptions
from ..core.environment import Environment
from ..core.hyperparameters import Hyperparameters, text_of
from ..core.job import LOCAL_INSTANCE_TYPE, JobConfig
from ..core.location import Location
from ..core.objectstore import LocalObs
from ..core.session import Session
from ..errors import ConfigurationError, ParameterError, SpecError, unknown_keywords_error
from .documents import environment_from_mapping, load_environment_file, with_default_lock

_JOB_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")


def modelarts(
    code_dir: str | Path | None = None,
    boot_file: str | None = None,
    *,
    environment: Environment | str | Path | None = None,
    hyperparameters: Mapping[str, Any] | list[Mapping[str, str]] | None = None,
    inputs: str | Path | None = None,
    output_path: str | Path | None = None,
    train_instance_count: int = 1,
    timeout: float | None = None,
    smoke_hyperparameters: Mapping[str, Any] | list[Mapping[str, str]] | None = None,
    smoke_inputs: str | Path | None = None,
    train_instance_type: str | None = None,
    online_inputs: str | None = None,
    online_output_path: str | None = None,
    job_name: str | None = None,
    backend: str | None = None,
    contract: str | None = None,
    obs_root: str | Path | Mapping[str, str] | None = None,
    user_image_url: str | None = None,
    user_command: str | None = None,
    memory: str | None = None,
    cpus: float | None = None,
    gpus: int | None = None,
    network_mode: str | None = None,
    run_user: str | int | None = None,
) -> dict[str, Any]:
    """The signature of the ``modelarts`` marker; calling it checks the arguments' names and binds them."""
    return dict(locals())


_SIG = inspect.signature(modelarts)
MARKER_SIGNATURE = "modelarts" + str(_SIG.replace(
    parameters=[p.replace(annotation=inspect.Parameter.empty) for p in _SIG.parameters.values()],
    return_annotation=inspect.Signature.empty))
MARKER_HELP = (
    MARKER_SIGNATURE
    + ": a ModelArts smoke test: the job's full (online) configuration plus smoke_* overrides for the local"
    " run. Skipped unless pytest runs with --modelarts. Documented in the installed package:"
    " python -m pydoc pytest_modelarts.pytest_plugin.marker"
)
PARAMETERS = tuple(_SIG.parameters)


@dataclass(frozen=True)
class SmokeSpec:
    """A validated smoke configuration; ``base`` is the directory relative paths were resolved against."""

    base: Path
    code_dir: str | None = None
    boot_file: str | None = None
    environment: Environment | None = None
    hyperparameters: Hyperparameters = Hyperparameters()
    inputs: str | None = None
    output_path: str | None = None
    train_instance_count: int = 1
    timeout: float | None = None
    smoke_hyperparameters: Hyperparameters = Hyperparameters()
    smoke_inputs: str | None = None
    train_instance_type: str | None = None
    online_inputs: str | None = None
    online_output_path: str | None = None
    job_name: str | None = None
    backend: str | None = None
    contract: str | None = None
    obs_root: LocalObs | None = None
    user_image_url: str | None = None
    user_command: str | None = None
    container: ContainerOptions = ContainerOptions()
    expect: Any = field(default=None, compare=False)  # job files only (see jobfile.Expectations)

    @property
    def runs_a_job(self) -> bool:
        return self.code_dir is not None or self.user_image_url is not None

    # -- the two configurations ---------------------------------------------------------------------
    def local_estimator_kwargs(self, session: Session) -> dict[str, Any]:
        """The Estimator's keywords of the local smoke run: smoke hyperparameters over the full ones."""
        self._require_code()
        return dict(
            modelarts_session=session, code_dir=self.code_dir, boot_file=self.boot_file,
            environment=self.environment, hyperparameters=self.hyperparameters.updated(self.smoke_hyperparameters),
            output_path=self.output_path, train_instance_count=self.train_instance_count,
            train_instance_type=LOCAL_INSTANCE_TYPE, backend=self.backend, contract=self.contract, obs_root=self.obs_root,
            user_image_url=self.user_image_url, user_command=self.user_command, container_options=self.container,
        )

    @property
    def local_inputs(self) -> str | None:
        return self.smoke_inputs if self.smoke_inputs is not None else self.inputs

    def online_config(self, session: Session, *, flavor: str | None, job_name: str) -> JobConfig:
        """The configuration promotion submits: full values, the online flavor, no smoke overrides; named by the
        spec's ``job_name``, else ``job_name``."""
        self._require_code()
        flavor = self.train_instance_type or flavor
        if not flavor:
            raise ConfigurationError(
                "promotion needs an online flavor: give train_instance_type='modelarts.vm.cpu.2u' (marker or job "
                "file) or --modelarts-instance-type=<flavor>"
            )
        template = JobConfig.template(
            code_dir=self.code_dir, boot_file=self.boot_file, environment=self.environment,
            hyperparameters=self.hyperparameters, output_path=self.online_output_path or self.output_path,
            train_instance_count=self.train_instance_count, train_instance_type=flavor,
            user_image_url=self.user_image_url, user_command=self.user_command, code_excludes=(session.local_root,),
        )
        inputs = self.online_inputs if self.online_inputs is not None else self.inputs
        return template.fit(inputs=inputs, job_name=self.job_name or job_name)

    def _require_code(self) -> None:
        if not self.runs_a_job:
            raise SpecError("code_dir", "is required to run a job: give code_dir and boot_file (or user_image_url "
                                        "and user_command for a custom image)")


# -- building a spec ------------------------------------------------------------------------------------

def spec_from_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any], base: Path) -> SmokeSpec:
    """Validate marker arguments by calling :func:`modelarts`; raise :class:`SpecError` naming the bad one."""
    unknown = set(kwargs) - set(PARAMETERS)
    if unknown:
        err = unknown_keywords_error("modelarts", unknown, PARAMETERS)
        raise SpecError(sorted(unknown)[0], err.allowed)
    try:
        bound = modelarts(*args, **kwargs)
    except TypeError as exc:
        raise SpecError("arguments", f"{exc}; the signature is {MARKER_SIGNATURE}") from None
    return build_spec(bound, base)


def build_spec(values: Mapping[str, Any], base: Path, *, expect: Any = None) -> SmokeSpec:
    """Check and normalise bound marker values (or a job-file entry with the same keys)."""
    v = dict(values)
    out: dict[str, Any] = {"base": base, "expect": expect}
    code_dir, boot_file = v.get("code_dir"), v.get("boot_file")
    if boot_file is not None and code_dir is None or code_dir is not None and boot_file is None and v.get("user_image_url") is None:
        missing = "boot_file" if boot_file is None else "code_dir"
        raise SpecError(missing, "code_dir and boot_file go together (the boot file lies inside code_dir); a custom "
                                 "image's job may give code_dir alone, with user_image_url and user_command")
    out["code_dir"] = _path(base, "code_dir", code_dir)
    if boot_file is not None and not isinstance(boot_file, (str, Path)):
        raise SpecError("boot_file", f"must be a str, got {boot_file!r}")
    out["boot_file"] = str(boot_file) if boot_file is not None else None
    out["environment"] = _environment(base, v.get("environment"))
    out["hyperparameters"] = _hyperparameters("hyperparameters", v.get("hyperparameters"))
    out["smoke_hyperparameters"] = _hyperparameters("smoke_hyperparameters", v.get("smoke_hyperparameters"))
    for name in ("inputs", "smoke_inputs", "output_path"):
        out[name] = _path(base, name, v.get(name))
    try:  # relative folders from the test's (or job file's) directory, as every path of a marker
        out["obs_root"] = LocalObs.parse(v.get("obs_root"), base=base, owner="modelarts", parameter="obs_root")
    except ParameterError as exc:
        raise SpecError("obs_root", exc.allowed) from None
    try:  # the container's knobs: checked by JobConfig's rules when the job is made
        out["container"] = ContainerOptions(memory=v.get("memory"), cpus=v.get("cpus"), gpus=v.get("gpus"),
                                            network_mode=v.get("network_mode"),
                                            user=str(v["run_user"]) if v.get("run_user") is not None else None)
    except TypeError as exc:  # pragma: no cover - ContainerOptions takes keywords only
        raise SpecError("arguments", str(exc)) from None
    for name in ("online_inputs", "online_output_path", "train_instance_type", "job_name", "backend", "contract",
                 "user_image_url", "user_command"):
        value = v.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SpecError(name, f"must be a non-empty str, got {value!r}")
        out[name] = value
    count = v.get("train_instance_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise SpecError("train_instance_count", f"must be an int >= 1, got {count!r}")
    out["train_instance_count"] = count
    timeout = v.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout < math.inf):  # nan and inf are numbers too
        raise SpecError("timeout", f"must be a number of seconds > 0, got {timeout!r}")
    out["timeout"] = float(timeout) if timeout is not None else None
    if out["train_instance_type"] == LOCAL_INSTANCE_TYPE:
        raise SpecError("train_instance_type", "is the online flavor (e.g. 'modelarts.vm.cpu.2u'); the smoke run is always local")
    return SmokeSpec(**out)


def _path(base: Path, name: str, value: Any) -> str | None:
    """A path relative to the test's (or job file's) directory, or a URL as given."""
    if value is None:
        return None
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise SpecError(name, f"must be a path or URL str, got {value!r}")
    where = Location(str(value))
    if where.is_remote:
        return where
    return str(where.path if where.path.is_absolute() else base / where.path)


def _hyperparameters(name: str, value: Any) -> Hyperparameters:
    """A dict ``{"epochs": 3}`` or the SDK's ``[{"label": "epochs", "value": "3"}]``; values become str."""
    if value is None:
        return Hyperparameters()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = []
        for entry in value:
            if not isinstance(entry, Mapping) or set(entry) != {"label", "value"}:
                raise SpecError(name, f'every item must be {{"label": ..., "value": ...}}, got {entry!r}')
            items.append((entry["label"], entry["value"]))
    else:
        raise SpecError(name, f'must be a dict {{"epochs": "3"}} or a list of {{"label", "value"}}, got {value!r}')
    result: dict[str, str] = {}
    for label, raw in items:
        if not isinstance(label, str):
            raise SpecError(name, f"labels must be str, got {label!r}")
        text = text_of(raw)
        if text is None:
            raise SpecError(name, f"the value of {label!r} must be a str or number, got {raw!r}")
        result[label] = text
    return Hyperparameters.from_mapping(result)


def _environment(base: Path, value: Any) -> Environment | None:
    if value is None:
        return None
    if isinstance(value, Environment):
        env = value
    elif isinstance(value, Mapping):
        env = environment_from_mapping(value, where="environment")
    elif isinstance(value, (str, Path)):
        path = Path(value).expanduser()
        env = load_environment_file(path if path.is_absolute() else base / path)
        base = (path if path.is_absolute() else base / path).parent
    else:
        raise SpecError("environment", f"must be an Environment, a path to an environment file or a table, got {value!r}")
    return with_default_lock(env, base)  # the lock is committed next to the test or env file


def job_name_for(text: str) -> str:
    """A valid ModelArts job name (``[a-zA-Z0-9_-]{1,64}``) derived from a test name."""
    name = _JOB_NAME_CHARS.sub("-", text).strip("-") or "smoke"
    return name[:64]
