"""``@pytest.mark.modelarts(...)`` and job-file entries: one smoke configuration, a :class:`SmokeSpec`.

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
resources            that flavor's cores and memory as     the flavor
                     limits (``smoke_cpus``,
                     ``smoke_memory`` scale them down)
===================  ====================================  ==========================================

Relative paths (``code_dir``, ``inputs``, ``smoke_inputs``, ``output_path``, an environment file) are taken
relative to the directory of the test file or job file that names them. :func:`configure` builds the job
configurations once, at collection, by the job rules (:mod:`~pytest_modelarts.core.rules`).
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.bootfile import doubtful, undeclared
from ..core.container import ContainerOptions
from ..core.environment import Environment
from ..core.hyperparameters import Hyperparameters, check_hyperparameters
from ..core.job import LOCAL_INSTANCE_TYPE, JobConfig
from ..core.location import Location
from ..core.objectstore import LocalObs
from ..core.pathcheck import MAX_SECONDS, seconds_problem
from ..core.session import Session
from ..errors import ConfigurationError, ParameterError, SpecError, unknown_keywords_error
from .documents import environment_from_mapping, load_environment_file, with_default_lock

_JOB_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")
#: the owner named by errors of marker keywords and job-file keys: ``modelarts(timeout=-1): ...``
OWNER = "modelarts"


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
    smoke_memory: str | None = None,
    smoke_cpus: float | None = None,
    network_mode: str | None = None,
    run_user: str | int | None = None,
    framework_type: str | None = None,
    framework_version: str | None = None,
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
    """A smoke configuration as written (paths resolved against ``base``, environment files read) and, once
    :func:`configure` ran at collection, the job configurations built from it: ``local`` (the smoke run) and
    ``online`` (what promotion submits; None unless promoting, ``online_error`` says why it could not be built)."""

    base: Path
    code_dir: Any = None
    boot_file: Any = None
    environment: Environment | None = None
    hyperparameters: Hyperparameters = Hyperparameters()
    inputs: Any = None
    output_path: Any = None
    train_instance_count: Any = 1
    timeout: float | None = None
    smoke_hyperparameters: Hyperparameters = Hyperparameters()
    smoke_inputs: Any = None
    train_instance_type: Any = None
    online_inputs: Any = None
    online_output_path: Any = None
    job_name: Any = None
    backend: Any = None
    contract: Any = None
    obs_root: LocalObs | None = None
    user_image_url: Any = None
    user_command: Any = None
    container: ContainerOptions = ContainerOptions()
    framework_type: Any = None  # the preset engine (core.engines), the same for the smoke run and the online job
    framework_version: Any = None
    expect: Any = field(default=None, compare=False)  # job files only (see jobfile.Expectations)
    local: JobConfig | None = field(default=None, compare=False)
    online: JobConfig | None = field(default=None, compare=False)
    online_error: ConfigurationError | None = field(default=None, compare=False)

    @property
    def runs_a_job(self) -> bool:  # without any of these, a marker is only a gate
        return any(getattr(self, k) is not None for k in ("code_dir", "boot_file", "user_image_url", "user_command"))

    @property
    def local_inputs(self) -> Any:
        return self.smoke_inputs if self.smoke_inputs is not None else self.inputs

    def online_config(self) -> JobConfig:
        """The online configuration :func:`configure` built at collection, or the problem it found there."""
        if self.online is None:
            raise self.online_error or ConfigurationError("no online configuration: it is built under --modelarts-promote")
        return self.online


# -- the values as written ------------------------------------------------------------------------------

def spec_from_marker(args: tuple[Any, ...], kwargs: Mapping[str, Any], base: Path) -> SmokeSpec:
    """Bind marker arguments by calling :func:`modelarts`; a :class:`ParameterError` names the bad keyword."""
    unknown = set(kwargs) - set(PARAMETERS)
    if unknown:
        err = unknown_keywords_error(OWNER, unknown, PARAMETERS)
        raise ParameterError(OWNER, err.parameter, kwargs[err.parameter], err.allowed)
    try:
        bound = modelarts(*args, **kwargs)
    except TypeError as exc:
        raise ConfigurationError(f"{exc}; the signature is {MARKER_SIGNATURE}") from None
    return build_spec(bound, base)


def build_spec(values: Mapping[str, Any], base: Path, *, expect: Any = None) -> SmokeSpec:
    """Bound marker values (or a job-file entry with the same keys) in the form :func:`configure` builds from:
    relative paths resolved, environment files read, hyperparameters converted. Values that are a job's go to the
    job's rules unchanged; only what the plugin itself means (``timeout``, ``train_instance_type``) is checked here."""
    v = {name: values.get(name) for name in PARAMETERS}
    out: dict[str, Any] = {k: v[k] for k in ("boot_file", "train_instance_type", "online_inputs", "online_output_path",
                                             "job_name", "backend", "contract", "user_image_url", "user_command",
                                             "framework_type", "framework_version")}
    out.update(base=base, expect=expect, train_instance_count=values.get("train_instance_count", 1))
    for name in ("code_dir", "inputs", "smoke_inputs", "output_path"):
        out[name] = _path(base, v[name])
    out["environment"] = _environment(base, v["environment"])
    for name in ("hyperparameters", "smoke_hyperparameters"):
        try:
            out[name] = check_hyperparameters(v[name], owner=OWNER)
        except ParameterError as exc:
            raise ParameterError(OWNER, name, exc.value, exc.allowed) from None
    # relative folders from the test's (or job file's) directory, as every path of a marker
    out["obs_root"] = LocalObs.parse(v["obs_root"], base=base, owner=OWNER, parameter="obs_root")
    out["container"] = ContainerOptions(memory=v["memory"], cpus=v["cpus"], gpus=v["gpus"], network_mode=v["network_mode"],
                                        user=str(v["run_user"]) if v["run_user"] is not None else None,
                                        smoke_memory=v["smoke_memory"], smoke_cpus=v["smoke_cpus"])
    timeout = v["timeout"]
    problem = seconds_problem(timeout, zero=False) if timeout is not None else None  # nan, inf and 10**20 too
    if problem is not None:
        raise ParameterError(OWNER, "timeout", timeout, "must be a number of seconds > 0"
                             + (f", no more than a timer takes ({MAX_SECONDS:.0f})" if "beyond" in problem else ""))
    out["timeout"] = float(timeout) if timeout is not None else None
    if out["train_instance_type"] == LOCAL_INSTANCE_TYPE:
        raise ParameterError(OWNER, "train_instance_type", LOCAL_INSTANCE_TYPE,
                             "is the online flavor (e.g. 'modelarts.vm.cpu.2u'); the smoke run is always local")
    return SmokeSpec(**out)


def _path(base: Path, value: Any) -> Any:
    """A path relative to the test's (or job file's) directory; a URL, or a value that is no path, as given."""
    if not isinstance(value, (str, Path)) or not str(value).strip():
        return value  # None, or for the job's rules to refuse
    where = Location(str(value))
    return where if where.is_remote else str(where.path if where.path.is_absolute() else base / where.path)


def _environment(base: Path, value: Any) -> Environment | None:
    if value is None:
        return None
    try:
        if isinstance(value, Environment):
            env = value
        elif isinstance(value, Mapping):
            env = environment_from_mapping(value, where="environment")
        elif isinstance(value, (str, Path)):
            path = base / Path(value).expanduser()  # an absolute path stays itself
            env = load_environment_file(path)
            base = path.parent
        else:
            raise SpecError("environment", "must be an Environment, a path to an environment file or a table")
    except SpecError as exc:
        raise ParameterError(OWNER, "environment", value, exc.problem) from None
    return with_default_lock(env, base)  # the lock is committed next to the test or env file


# -- the job configurations, built once -----------------------------------------------------------------

def configure(spec: SmokeSpec, session: Session, *, name: str, promote: bool = False, flavor: str | None = None) -> SmokeSpec:
    """``spec`` with its local configuration (and, when ``promote``, its online one) built by the job rules: a bad
    value raises :class:`ParameterError` naming its keyword; an online problem is kept as ``online_error``."""
    if not spec.runs_a_job:
        return spec
    job_name = spec.job_name or name
    local = _job_config(
        spec, session, job_name, inputs=spec.local_inputs,
        renames={"inputs": "smoke_inputs" if spec.smoke_inputs is not None else "inputs", "user": "run_user",
                 "flavor": "train_instance_type"},
        hyperparameters=spec.hyperparameters.updated(spec.smoke_hyperparameters), output_path=spec.output_path,
        train_instance_type=LOCAL_INSTANCE_TYPE, backend=spec.backend, contract=spec.contract,
        # the smoke run gets the online flavor's cores and memory (scaled down by smoke_memory/smoke_cpus, on purpose)
        container=replace(spec.container, flavor=spec.train_instance_type or flavor),
        local_obs=spec.obs_root or session.obs_root,
    )
    _check_declared(spec, local)
    spec = replace(spec, local=local)
    if promote:
        try:
            spec = replace(spec, online=_online(spec, session, flavor=flavor, job_name=job_name))
        except ConfigurationError as exc:
            spec = replace(spec, online_error=exc)
    return spec


def _online(spec: SmokeSpec, session: Session, *, flavor: str | None, job_name: str) -> JobConfig:
    """The configuration promotion submits: full values, the online flavor, no smoke overrides."""
    flavor = spec.train_instance_type or flavor
    if not flavor:
        raise ConfigurationError("promotion needs an online flavor: give train_instance_type='modelarts.vm.cpu.2u' "
                                 "(marker or job file) or --modelarts-instance-type=<flavor>")
    return _job_config(
        spec, session, job_name, inputs=spec.online_inputs if spec.online_inputs is not None else spec.inputs,
        renames={"inputs": "online_inputs" if spec.online_inputs is not None else "inputs",
                 "output_path": "online_output_path" if spec.online_output_path is not None else "output_path"},
        hyperparameters=spec.hyperparameters, output_path=spec.online_output_path or spec.output_path, train_instance_type=flavor,
    )


def _job_config(spec: SmokeSpec, session: Session, job_name: str, *, inputs: Any, renames: Mapping[str, str], **fields: Any) -> JobConfig:
    """A job configuration of ``spec`` by the job rules: what the local and the online one share, plus ``fields``. A
    rule's error names the keyword the value came from where its name differs from the job's field (``renames``)."""
    try:
        return JobConfig.template(
            code_dir=spec.code_dir, boot_file=spec.boot_file, environment=spec.environment,
            train_instance_count=spec.train_instance_count, user_image_url=spec.user_image_url,
            user_command=spec.user_command, code_excludes=(session.local_root,), framework_type=spec.framework_type,
            framework_version=spec.framework_version, **fields,
        ).fit(inputs=inputs, job_name=job_name)
    except ParameterError as exc:
        keyword = renames.get(exc.parameter, exc.parameter)
        raise (exc if keyword == exc.parameter else ParameterError(OWNER, keyword, exc.value, exc.allowed)) from None


def _check_declared(spec: SmokeSpec, local: JobConfig) -> None:
    """A label the boot file never declares would pass unseen (the platform's arguments require parse_known_args)."""
    smoke = dict(spec.smoke_hyperparameters)
    for keyword, pairs in (("smoke_hyperparameters", smoke), ("hyperparameters", {k: v for k, v in spec.hyperparameters if k not in smoke})):
        problems = undeclared(local.code_path / local.boot_file, pairs) if local.code_path and local.boot_file else []
        if problems:
            raise ParameterError(OWNER, keyword, pairs, "; ".join(problems))
        for doubt in doubtful(local.code_path / local.boot_file, pairs) if local.code_path and local.boot_file else []:
            warnings.warn(f"{OWNER}({keyword}=...): {doubt}", UserWarning, stacklevel=2)  # a guess: never a refusal


def job_name_for(text: str) -> str:
    """A valid ModelArts job name (``[a-zA-Z0-9_-]{1,64}``) derived from a test name."""
    name = _JOB_NAME_CHARS.sub("-", text).strip("-") or "smoke"
    return name[:64]
