"""Documents users write beside their tests: TOML or YAML files, and the environment files among them."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.environment import CondaDependencies, Environment
from ..errors import JobFileError, ParameterError, SpecError


def read_document(path: Path) -> Any:
    """Parse a TOML or YAML file (by suffix); syntax errors become :class:`JobFileError` with the position."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise JobFileError(f"{path}: not a text file (byte {exc.start} is not UTF-8); write it as UTF-8 TOML or YAML") from None
    except OSError as exc:
        raise JobFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if "\0" in text:
        raise JobFileError(f"{path}: not a text file (it holds NUL bytes); write it as UTF-8 TOML or YAML")
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise JobFileError(f"{path}: invalid TOML: {exc}") from None
    import yaml  # a dependency; imported only by the runs that read YAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise JobFileError(f"{path}: invalid YAML: {exc}") from None


ENV_KEYS = ("name", "channels", "conda_packages", "pip_packages", "dependencies", "lock_file")


def load_environment_file(path: Path) -> Environment:
    """An Environment from a TOML or YAML file.

    Keys: ``name`` (default: the file's stem), ``channels``, ``conda_packages``, ``pip_packages``,
    ``lock_file``; or conda's ``environment.yml`` form with ``dependencies`` (a ``{pip: [...]}`` entry
    gives the pip packages).
    """
    if not path.is_file():
        raise SpecError("environment", f"environment file {str(path)!r} does not exist")
    data = read_document(path)
    if not isinstance(data, Mapping):
        raise SpecError("environment", f"{path}: must be a table of {', '.join(ENV_KEYS)}")
    env = environment_from_mapping({"name": path.name.split(".")[0], **data}, where=f"environment file {path}")
    if env.lock_file is not None and not env.lock_file.is_absolute():
        env = dataclasses.replace(env, lock_file=path.parent / env.lock_file)
    return env


def with_default_lock(env: Environment, base: Path) -> Environment:
    """``env``, its lock placed where it is committed when it names none: ``<base>/<name>.conda-lock.yml``, next to
    the test or environment file (what the marker and ``pytest-modelarts env lock`` both use)."""
    if env.lock_file is None and env.conda is not None:
        env = dataclasses.replace(env, lock_file=env.default_lock_path(base))
    return env


def environment_from_mapping(data: Mapping[str, Any], *, where: str) -> Environment:
    unknown = set(data) - set(ENV_KEYS)
    if unknown:
        raise SpecError("environment", f"{where}: unknown key {sorted(unknown)[0]!r}; the keys are {', '.join(ENV_KEYS)}")
    for key in ("conda_packages", "pip_packages", "dependencies", "channels"):
        value = data.get(key)
        if value is not None and not isinstance(value, list):
            raise SpecError("environment", f"{where}: {key} must be a list, e.g. {key} = [{value!r}]; got {value!r}")
    conda = list(data.get("conda_packages") or [])
    pip = list(data.get("pip_packages") or [])
    for dep in data.get("dependencies") or []:
        if isinstance(dep, Mapping) and set(dep) == {"pip"}:
            pip.extend(dep["pip"] or [])
        elif isinstance(dep, str):
            conda.append(dep)
        else:
            raise SpecError("environment", f"{where}: dependencies: items must be str or {{pip: [...]}}, got {dep!r}")
    try:
        deps = None
        if conda or pip or data.get("channels"):
            deps = CondaDependencies.create(channels=data.get("channels"), pip_packages=pip, conda_packages=conda)
        if "name" not in data:
            raise SpecError("environment", f"{where}: 'name' is required")
        return Environment(data["name"], conda=deps, lock_file=data.get("lock_file"))
    except ParameterError as exc:
        raise SpecError("environment", f"{where}: {exc}") from None
