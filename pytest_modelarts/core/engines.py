"""The preset engines ModelArts publishes, and what a job that names one runs on.

A boot-file job online runs on a **preset engine** (the SDK's ``framework_type``/``framework_version``, the API's
``algorithm.engine``): an image with its own Python, framework version and run user, the code directory's
requirements installed on top. The catalog (``engines.json`` beside this module) lists the engines Huawei's API
reference shows, each row with its source (docs/contract.md, "Preset engines"). The same catalog selects the
engine of a local run, fills the online body's ``algorithm.engine`` and answers the emulator's
``GET /v2/{project_id}/training-job-engines``.

Locally an engine job's environment is the engine's Python and framework, pinned as the engine has them, with the
job's ``Environment`` on top (:meth:`Engine.environment`); the lock records the engine (``CondaDependencies.engine``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, ParameterError
from .environment import CondaDependencies, Environment

CATALOG_FILE = Path(__file__).with_name("engines.json")


def _package_name(spec: str) -> str:
    return re.split(r"[\s=<>!~\[;@]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


@dataclass(frozen=True)
class Engine:
    """One preset engine: the API's ``engine_id``, ``engine_name``, ``engine_version``, ``run_user``,
    ``v1_compatible`` and ``image_info``, plus what the image holds (its Python, its framework packages) and the
    source of the row."""

    engine_id: str
    name: str
    version: str
    python: str
    #: the pip pins of the image's framework (and what it ships with it), the framework first
    packages: tuple[str, ...]
    #: the framework as ``name==version``, where no package of an index provides it (then ``local_problem`` says so)
    framework_pin: str
    run_user: int | None
    v1_compatible: bool
    architecture: str
    image_info: dict[str, str]
    source: str
    #: why a local run cannot reproduce this engine; None when it can
    local_problem: str | None = None

    @property
    def framework(self) -> str:
        """The framework's package name (``torch``)."""
        return _package_name(self.framework_pin)

    @property
    def framework_version(self) -> str:
        """The framework's version (``1.8.0``)."""
        return self.framework_pin.partition("==")[2]

    def api_item(self) -> dict[str, Any]:
        """The row as ``GET /v2/{project_id}/training-job-engines`` shows it."""
        return {"engine_id": self.engine_id, "engine_name": self.name, "engine_version": self.version,
                "v1_compatible": self.v1_compatible, "run_user": "" if self.run_user is None else str(self.run_user),
                "image_info": dict(self.image_info)}

    def environment(self, on_top: Environment | None, *, owner: str = "Estimator") -> Environment:
        """The local environment of a job on this engine: its Python and framework pins, with ``on_top``'s channels
        and packages added; a pin of ``on_top`` that the engine decides differently is refused (online, the engine's
        would run)."""
        if self.local_problem is not None:
            raise ConfigurationError(f"{owner}(framework_type={self.name!r}, framework_version={self.version!r}): "
                                     f"cannot run locally: {self.local_problem}")
        user = on_top.conda if on_top is not None and on_top.conda is not None else CondaDependencies()
        env_name = on_top.name if on_top is not None else f"engine-{self.engine_id}"[:128]
        conda = [f"python={self.python}"]
        for spec in user.conda_packages:
            if _package_name(spec) == "python":
                version = re.sub(r"^python\s*=*\s*", "", spec.strip())
                if version and version != self.python and not version.startswith(self.python + "."):
                    raise ConfigurationError(
                        f"Environment {env_name!r} pins {spec!r} but the engine {self.engine_id} runs Python {self.python}, "
                        "as the online job will: drop python from conda_packages")
                continue
            conda.append(spec)
        pip = list(self.packages)
        ours = {_package_name(p): p for p in self.packages}
        for spec in user.pip_packages:
            mine = ours.get(_package_name(spec))
            if mine is None:
                pip.append(spec)
            elif spec.replace(" ", "") != mine:
                raise ConfigurationError(
                    f"Environment {env_name!r} lists {spec!r} but the engine {self.engine_id} has {mine}, "
                    "which the online job runs: drop it from pip_packages (or choose the engine that has it)")
        deps = CondaDependencies(channels=user.channels, pip_packages=tuple(pip), conda_packages=tuple(conda),
                                 engine=self.engine_id)
        return Environment(env_name, deps, on_top.lock_file if on_top is not None else None)


def _engine(row: dict[str, Any], sources: dict[str, str]) -> Engine:
    packages = tuple(row["packages"])
    return Engine(
        engine_id=row["engine_id"], name=row["engine_name"], version=row["engine_version"], python=row["python"],
        packages=packages, framework_pin=row.get("framework") or packages[0],
        run_user=int(row["run_user"]) if row["run_user"] else None, v1_compatible=bool(row["v1_compatible"]),
        architecture=row["architecture"], image_info=dict(row["image_info"]),
        source="; ".join(sources[tag.strip()] for tag in row["source"].split(",")),
        local_problem=row.get("local_problem"),
    )


@functools.cache
def catalog() -> tuple[Engine, ...]:
    """Every engine of the catalog, in its order."""
    data = json.loads(CATALOG_FILE.read_text())
    return tuple(_engine(row, data["sources"]) for row in data["engines"])


def known() -> str:
    """The catalog in one line, for errors: ``PyTorch (pytorch_1.8.0-...), TensorFlow (...)``."""
    return ", ".join(f"{e.name} ({e.version})" for e in catalog())


def find(framework_type: str, framework_version: str | None, *, owner: str = "Estimator") -> Engine:
    """The engine ``framework_type`` (an engine name) and ``framework_version`` (its version or id) name; without a
    version, the only engine of that name. Anything else is a :class:`ParameterError` naming the known engines."""
    named = [e for e in catalog() if e.name.lower() == framework_type.strip().lower()]
    if not named:
        raise ParameterError(owner, "framework_type", framework_type, f"is not a preset engine; the engines are: {known()}")
    if framework_version is None:
        if len(named) == 1:
            return named[0]
        versions = ", ".join(repr(e.version) for e in named)
        raise ParameterError(owner, "framework_version", None, f"is required: {named[0].name} has several versions: {versions}")
    wanted = framework_version.strip().lower()
    for engine in named:
        if wanted in (engine.version.lower(), engine.engine_id.lower()):
            return engine
    versions = ", ".join(repr(e.version) for e in named)
    raise ParameterError(owner, "framework_version", framework_version,
                         f"is not a version of the preset engine {named[0].name}; its versions are: {versions}")


def by_api_fields(engine_name: str | None, engine_version: str | None, engine_id: str | None) -> Engine | None:
    """The engine a create request's ``algorithm.engine`` names (by id, or by name and version); None when none does."""
    for engine in catalog():
        if engine_id and engine_id == engine.engine_id:
            return engine
        if engine_name == engine.name and engine_version in (engine.version, engine.engine_id):
            return engine
    return None
