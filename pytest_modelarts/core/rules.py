"""The rules of a job's fields, each written once: the ModelArts SDK's Estimator and ``fit`` tables, and ours.

Every rule names the fields it reads; :func:`apply` runs, in a fixed order, the rules of a stage
(``estimator``: the Estimator's parameters; ``fit``: ``fit``'s, which may read the Estimator's too) whose
fields changed, so that :meth:`JobConfig.evolve <pytest_modelarts.core.job.JobConfig.evolve>` re-checks what
a change can affect and nothing else (changing the hyperparameters does not walk the code tree again). A rule
raises :class:`~pytest_modelarts.errors.ParameterError` naming the parameter, the value and what is allowed;
it may normalise values (a code directory becomes absolute, a boot file relative to it).

Decisions where the SDK reference is silent (docs/sdk.md): local runs take local paths or ``file://`` URLs; ``obs://``
is for online jobs; built-in algorithms (``model_name``) exist only online.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..errors import ParameterError
from . import contract
from .codetree import CodeTree
from .container import ContainerOptions
from .contract import Version
from .engines import find as find_engine
from .environment import Environment
from .hyperparameters import check_hyperparameters
from .location import Location
from .objectstore import LocalObs
from .pathcheck import check_path, nearest_sibling
from .session import parse_run_user

LOCAL_INSTANCE_TYPE = "local"
JOB_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
INSTANCE_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
IMAGE_REF = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._/-][a-z0-9]+)*)?(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?")
MAX_DESCRIPTION = 256

Stage = Literal["estimator", "fit"]
Values = dict[str, Any]
E, F = "Estimator", "fit"


@dataclass(frozen=True)
class Rule:
    stage: Stage
    reads: frozenset[str]
    check: Callable[[Values], None]


RULES: list[Rule] = []


def rule(stage: Stage, *reads: str) -> Callable[[Callable[[Values], None]], Callable[[Values], None]]:
    def register(fn: Callable[[Values], None]) -> Callable[[Values], None]:
        RULES.append(Rule(stage, frozenset(reads), fn))
        return fn
    return register


def apply(values: Values, *, stages: tuple[Stage, ...], changed: set[str] | None = None) -> None:
    """Run the rules of ``stages`` that read a field in ``changed`` (all of them when None), in order."""
    for r in RULES:
        if r.stage in stages and (changed is None or r.reads & changed):
            r.check(values)


def is_local(values: Mapping[str, Any]) -> bool:
    return bool(values["train_instance_type"] == LOCAL_INSTANCE_TYPE)


# -- the Estimator's parameters, in the order the SDK's table checks them ---------------------------------

@rule("estimator", "train_instance_type")
def _instance_type(v: Values) -> None:
    value = v["train_instance_type"]
    if value is None:
        raise ParameterError(E, "train_instance_type", None, "is required: 'local' to run on this machine, or a ModelArts flavor such as 'modelarts.vm.cpu.2u'")
    if isinstance(value, str) and value != LOCAL_INSTANCE_TYPE and value.strip().lower() == LOCAL_INSTANCE_TYPE:
        raise ParameterError(E, "train_instance_type", value, f"did you mean {LOCAL_INSTANCE_TYPE!r}? (exactly that, lower case, "
                             "runs on this machine; anything else is taken as a ModelArts flavor)")
    if not isinstance(value, str) or not INSTANCE_TYPE.fullmatch(value):
        raise ParameterError(E, "train_instance_type", value, "must be 'local' or a flavor id such as 'modelarts.vm.cpu.2u'")


@rule("estimator", "train_instance_count")
def _instance_count(v: Values) -> None:
    value = v["train_instance_count"]
    if value is None:
        raise ParameterError(E, "train_instance_count", None, "is required: the number of nodes, an int >= 1")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(E, "train_instance_count", value, "must be an int >= 1")


def optional_str(owner: str, name: str, value: Any, *, allow_empty: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        pathlike = name.endswith(("_dir", "_path", "_url")) or name == "inputs"
        raise ParameterError(owner, name, value, "must be a non-empty str" + (" or os.PathLike" if pathlike else ""))
    return value


STR_FIELDS = ("code_dir", "boot_file", "model_name", "output_path", "log_url", "framework_type", "framework_version",
              "job_description", "user_image_url", "user_command", "backend")


@rule("estimator", *STR_FIELDS)
def _strings(v: Values) -> None:
    for name in STR_FIELDS:
        value = v[name]
        if isinstance(value, Location):
            continue
        v[name] = optional_str(E, name, value, allow_empty=name == "job_description")


@rule("estimator", "model_name", "code_dir", "boot_file", "framework_type", "framework_version", "user_image_url",
      "train_instance_type")
def _what_runs(v: Values) -> None:
    """A built-in algorithm, a boot file in a code dir, or a custom image."""
    model_name, code_dir, boot_file = v["model_name"], v["code_dir"], v["boot_file"]
    if model_name is not None:
        for name in ("code_dir", "boot_file", "framework_type", "framework_version", "user_image_url"):
            if v[name] is not None:
                raise ParameterError(E, name, v[name], f"must not be given with model_name={model_name!r} "
                                     "(a built-in algorithm brings its own code and engine)")
        if is_local(v):
            raise ParameterError(E, "model_name", model_name, "built-in algorithms run only online; for a local run give code_dir and boot_file")
    elif v["user_image_url"] is None and (code_dir is None or boot_file is None):
        missing = "code_dir" if code_dir is None else "boot_file"
        raise ParameterError(E, missing, None, "is required: give code_dir and boot_file (or model_name, or user_image_url with user_command)")
    if boot_file is not None and code_dir is None:
        raise ParameterError(E, "code_dir", None, f"is required with boot_file={boot_file!r}: the boot file must lie inside code_dir")


@rule("estimator", "user_image_url", "user_command", "boot_file", "framework_type", "framework_version", "job_description")
def _image_and_engine(v: Values) -> None:
    image = v["user_image_url"]
    if image is not None:
        if not IMAGE_REF.fullmatch(image):
            raise ParameterError(E, "user_image_url", image, "must be an image reference such as 'swr.cn-north-4.myhuaweicloud.com/org/image:tag'")
        for name in ("framework_type", "framework_version"):
            if v[name] is not None:
                raise ParameterError(E, name, v[name], "must not be given with user_image_url: a custom image brings its own engine")
        if v["user_command"] is None and v["boot_file"] is None:
            raise ParameterError(E, "user_command", None, "is required with user_image_url (the container's start command), unless a boot_file is given")
    elif v["user_command"] is not None:
        raise ParameterError(E, "user_command", v["user_command"], "is the start command of a custom image: give user_image_url too")
    if v["framework_version"] is not None and v["framework_type"] is None:
        raise ParameterError(E, "framework_version", v["framework_version"], "needs framework_type (e.g. 'PyTorch')")
    if v["framework_type"] is not None and image is None:
        find_engine(v["framework_type"], v["framework_version"], owner=E)  # an engine the catalog does not know is refused
    description = v["job_description"]
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ParameterError(E, "job_description", description, f"must be at most {MAX_DESCRIPTION} characters")


@rule("estimator", "code_dir", "boot_file", "train_instance_type", "code_excludes")
def _code(v: Values) -> None:
    if v["code_dir"] is None:
        return
    code_dir, boot_file = Location(v["code_dir"]), v["boot_file"]
    if code_dir.is_remote:
        if is_local(v):
            raise ParameterError(E, "code_dir", code_dir, "a local run needs a local directory or file:// URL (obs:// code is for online jobs)")
        if code_dir.scheme != "obs":
            raise ParameterError(E, "code_dir", code_dir, "must be a local directory, a file:// URL or an obs:// URL")
        v["code_dir"] = code_dir
        if boot_file is not None:
            rel = PurePosixPath(boot_file.removeprefix(code_dir.rstrip("/") + "/"))
            if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".py":
                raise ParameterError(E, "boot_file", boot_file, f"must be a .py file inside code_dir {code_dir!r}")
            v["boot_file"] = rel.as_posix()
        return
    check_path(E, "code_dir", str(code_dir.path), written=False)
    if not code_dir.path.is_dir():
        raise ParameterError(E, "code_dir", code_dir, "must be an existing directory")
    root = code_dir.path.resolve()
    stats = CodeTree(root, exclude=v["code_excludes"]).stats(stop_after_entries=contract.MAX_CODE_ENTRIES)
    if stats.files + stats.dirs > contract.MAX_CODE_ENTRIES:
        raise ParameterError(E, "code_dir", code_dir, f"holds more than {contract.MAX_CODE_ENTRIES} files and folders, "
                             "the ModelArts limit for a code directory")
    if stats.depth > contract.MAX_CODE_DEPTH:
        raise ParameterError(E, "code_dir", code_dir, f"is {stats.depth} levels deep, over the ModelArts limit of "
                             f"{contract.MAX_CODE_DEPTH}")
    if stats.bytes > contract.MAX_CODE_BYTES:
        raise ParameterError(E, "code_dir", code_dir, f"holds {stats.bytes} bytes, over the ModelArts limit of 5 GB")
    if stats.refusal:
        raise ParameterError(E, "code_dir", code_dir, stats.refusal)
    v["code_dir"] = Location(str(root))
    if boot_file is None:
        return
    given = Path(boot_file).expanduser()
    resolved = (given if given.is_absolute() else root / given).resolve()
    if not resolved.is_relative_to(root):
        raise ParameterError(E, "boot_file", boot_file, f"must lie inside code_dir {str(root)!r}")
    if resolved.suffix != ".py":
        raise ParameterError(E, "boot_file", boot_file, "must be a .py file")
    if not resolved.is_file():
        raise ParameterError(E, "boot_file", boot_file, f"does not exist in code_dir {str(root)!r}")
    v["boot_file"] = resolved.relative_to(root).as_posix()


def check_location(owner: str, name: str, value: str, *, local: bool, must_exist: bool,
                   local_obs: LocalObs | None = None) -> Location:
    """A location checked where it will be used: a local run takes local paths, or ``obs://``/``s3://`` URLs of
    the local OBS (``Session(obs_root=...)``) when there is one."""
    where = Location(value)
    if where.is_remote:
        if local:
            if local_obs is None or not where.is_object_store:
                raise ParameterError(owner, name, value, "a local run takes a local path or a file:// URL, or an obs:// "
                                     "URL of a local OBS (Session(obs_root=...)); obs:// alone is for online jobs")
            try:
                path = local_obs.resolve(where)
            except ValueError as exc:
                raise ParameterError(owner, name, value, str(exc)) from None
            if must_exist and not path.exists():
                raise ParameterError(owner, name, value, f"does not exist in the local OBS ({path})")
            return where
        if where.scheme != "obs":
            raise ParameterError(owner, name, value, "must be an obs:// URL, a local path or a file:// URL")
        return where
    check_path(owner, name, str(where.path), written=name != "inputs", folder=name != "inputs")
    if must_exist and not where.path.exists():
        raise ParameterError(owner, name, value, "does not exist" + nearest_sibling(where.path))
    if name == "inputs":
        refusal = CodeTree(where.path).refusal(links=False)
        if refusal:
            raise ParameterError(owner, name, value, refusal)
    if where.path.exists() and name != "inputs" and not where.path.is_dir():
        raise ParameterError(owner, name, value, "must be a directory")
    return where


@rule("estimator", "local_obs")
def _local_obs(v: Values) -> None:
    obs = v["local_obs"]
    for folder in obs.folders() if obs is not None else []:
        if folder.exists() and not folder.is_dir():
            raise ParameterError(E, "obs_root", str(folder), "is a file: give a folder whose sub-folders are buckets")


@rule("estimator", "output_path", "log_url", "train_instance_type", "local_obs")
def _output_locations(v: Values) -> None:
    for name in ("output_path", "log_url"):
        if v[name] is not None:
            v[name] = check_location(E, name, v[name], local=is_local(v), must_exist=False, local_obs=v["local_obs"])


@rule("estimator", "hyperparameters")
def _hyperparameters(v: Values) -> None:
    v["hyperparameters"] = check_hyperparameters(v["hyperparameters"], owner=E)


@rule("estimator", "environment")
def _environment(v: Values) -> None:
    env = v["environment"]
    if env is not None and not isinstance(env, Environment):
        raise ParameterError(E, "environment", env, "must be a pytest_modelarts.Environment or None")
    if env is not None:
        v["environment"] = env.snapshot()  # the user may edit the original later


@rule("estimator", "container")
def _container(v: Values) -> None:
    options = v["container"]
    if options is None:
        v["container"] = options = ContainerOptions()
    elif not isinstance(options, ContainerOptions):
        raise ParameterError(E, "container_options", options, "must be a pytest_modelarts.ContainerOptions")
    C = "ContainerOptions"
    if options.network_mode not in (None, "none", "bridge", "host"):
        raise ParameterError(C, "network_mode", options.network_mode, "must be None, 'none', 'bridge' or 'host'")
    if options.cpus is not None and (isinstance(options.cpus, bool) or not isinstance(options.cpus, (int, float)) or options.cpus <= 0):
        raise ParameterError(C, "cpus", options.cpus, "must be a number > 0")
    if options.memory is not None and not (isinstance(options.memory, str) and re.fullmatch(r"\d+[bkmg]?", options.memory.lower())):
        raise ParameterError(C, "memory", options.memory, "must be a size such as '512m' or '2g'")
    if options.gpus is not None and (isinstance(options.gpus, bool) or not isinstance(options.gpus, int) or options.gpus < -1 or options.gpus == 0):
        raise ParameterError(C, "gpus", options.gpus, "must be a positive int, or -1 for all")
    if options.user is not None:
        parse_run_user(options.user, C, "user")
    if options.smoke_cpus is not None and (isinstance(options.smoke_cpus, bool) or not isinstance(options.smoke_cpus, (int, float))
                                           or options.smoke_cpus <= 0):
        raise ParameterError(C, "smoke_cpus", options.smoke_cpus, "must be a number > 0")
    if options.smoke_memory is not None and not (isinstance(options.smoke_memory, str) and re.fullmatch(r"\d+[bkmg]?", options.smoke_memory.lower())):
        raise ParameterError(C, "smoke_memory", options.smoke_memory, "must be a size such as '512m' or '2g'")


@rule("estimator", "container", "train_instance_type", "train_instance_count")
def _flavor(v: Values) -> None:
    """A local run's flavor must be a published one, its node count within the flavor's ``max_num`` (an online job's
    too, where its flavor is a published one: the API refuses it, FlavorOutOfRange); ``smoke_*`` scale a flavor."""
    from . import flavors

    options, C = v["container"], "ContainerOptions"
    flavor_id = options.flavor if is_local(v) else v["train_instance_type"]
    if options.flavor is not None:
        if not isinstance(options.flavor, str) or flavors.find(options.flavor) is None:
            raise ParameterError(C, "flavor", options.flavor, f"is not a published ModelArts flavor; the flavors are: {flavors.known_ids()}")
        if options.cpus is not None or options.memory is not None:
            given = "cpus" if options.cpus is not None else "memory"
            raise ParameterError(C, given, getattr(options, given), f"cannot be combined with flavor={options.flavor!r}, "
                                 "which sets them: scale the flavor down with smoke_cpus= or smoke_memory=")
        flavor_gpus = flavors.BY_ID[options.flavor].gpus
        if options.gpus is not None and (options.gpus < 0 or options.gpus > flavor_gpus):
            raise ParameterError(C, "gpus", options.gpus, f"{options.flavor} has {flavor_gpus or 'no'} GPU"
                                 f"{'s' * (flavor_gpus != 1)}: give at most {flavor_gpus} or drop gpus= (the flavor sets it)")
    elif options.smoke_cpus is not None or options.smoke_memory is not None:
        given = "smoke_cpus" if options.smoke_cpus is not None else "smoke_memory"
        raise ParameterError(C, given, getattr(options, given), "scales a flavor down: give flavor= too, or use cpus=/memory=")
    flavor = flavors.find(flavor_id) if isinstance(flavor_id, str) else None
    problem = flavors.count_problem(flavor, v["train_instance_count"]) if flavor is not None else None
    if problem is not None:
        raise ParameterError(E, "train_instance_count", v["train_instance_count"], problem)


@rule("estimator", "contract")
def _contract(v: Values) -> None:
    if v["contract"] is not None:
        v["contract"] = Version.parse(v["contract"], E)


@rule("estimator", "backend", "train_instance_type")
def _backend(v: Values) -> None:
    backend = v["backend"]
    if backend is not None and backend != "online" and not is_local(v):
        raise ParameterError(E, "backend", backend, f"runs jobs on this machine: use it with train_instance_type='local' (got {v['train_instance_type']!r})")
    if backend == "online" and is_local(v):
        raise ParameterError(E, "backend", backend, "runs jobs on ModelArts: give a flavor such as 'modelarts.vm.cpu.2u', not 'local'")


ENVIRONMENT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@rule("estimator", "hyperparameters", "user_image_url")
def _custom_image_hyperparameters(v: Values) -> None:
    """A custom image gets every hyperparameter as a variable too: its label must be a valid ``environments`` key."""
    if v["user_image_url"] is None:
        return
    for label, value in v["hyperparameters"]:
        if not ENVIRONMENT_KEY.fullmatch(label):
            suggestion = re.sub(r"[^A-Za-z0-9_]", "_", label)
            raise ParameterError(E, "hyperparameters", {"label": label, "value": value},
                                 f"label {label!r} becomes an environment variable of the custom image; ModelArts "
                                 f"accepts only [A-Za-z_][A-Za-z0-9_]* there: write {suggestion!r}")


# -- fit's parameters ---------------------------------------------------------------------------------------

FIT_STRINGS = ("inputs", "dataset_id", "dataset_version_id")


@rule("fit", "inputs", "dataset_id", "dataset_version_id", "data_source", "train_instance_type", "local_obs")
def _data(v: Values) -> None:
    for name in FIT_STRINGS:
        if not isinstance(v[name], Location):
            v[name] = optional_str(F, name, v[name])
    inputs, dataset_id, version_id, data_source = v["inputs"], v["dataset_id"], v["dataset_version_id"], v["data_source"]
    if (dataset_id is None) != (version_id is None):
        missing = "dataset_version_id" if version_id is None else "dataset_id"
        raise ParameterError(F, missing, None, "dataset_id and dataset_version_id must be given together")
    given = {name: value for name, value in (("inputs", inputs), ("dataset_id", dataset_id), ("data_source", data_source)) if value is not None}
    if len(given) > 1:
        second = list(given)[1]
        raise ParameterError(F, second, given[second], f"give exactly one of inputs, dataset_id + dataset_version_id, data_source (got {' and '.join(given)})")
    if is_local(v):
        for name in ("dataset_id", "data_source"):
            if v[name] is not None:
                raise ParameterError(F, name, v[name], "local training supports only inputs (a local directory or file:// URL)")
    elif not given:
        raise ParameterError(F, "inputs", None, "an online job needs its data: give inputs (obs:// or local), "
                             "or dataset_id + dataset_version_id, or data_source")
    if inputs is not None:
        where = Location(inputs)
        if is_local(v) or where.is_local:
            v["inputs"] = check_location(F, "inputs", inputs, local=True, must_exist=True, local_obs=v["local_obs"])
        elif where.scheme != "obs":
            raise ParameterError(F, "inputs", inputs, "must be an obs:// URL, a local path or a file:// URL")
        else:
            v["inputs"] = where


@rule("fit", "job_name")
def _job_name(v: Values) -> None:
    name = v["job_name"]
    if not isinstance(name, str) or not JOB_NAME.fullmatch(name):
        raise ParameterError(F, "job_name", name, "must match [a-zA-Z0-9_-]{1,64}")


@rule("fit", "output_path", "train_instance_type")
def _online_output(v: Values) -> None:
    if not is_local(v) and v["output_path"] is None:
        raise ParameterError(E, "output_path", None, "is required for an online job: an obs:// directory for the outputs")
