"""``Environment`` and ``CondaDependencies``: what the boot file needs installed.

These are the ModelArts SDK's objects with the SDK's parameters. They only describe an environment; turning the
description into a locked, cached prefix is the job of :mod:`pytest_modelarts.envs`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .requirement_specs import check_channels, check_conda_packages, check_lock_file, check_pip_packages, conda_name

_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _str_list(owner: str, parameter: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ParameterError(owner, parameter, value, "must be a list of str, e.g. ['numpy==1.26.4']")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ParameterError(owner, parameter, value, f"every item must be a non-empty str; got {item!r}")
    return tuple(item.strip() for item in items)


def _no_moxing(owner: str, packages: tuple[str, ...], parameter: str = "pip_packages") -> tuple[str, ...]:
    """Packages without one named ``moxing``, which is not ModelArts' MoXing (:mod:`.moxing_package`): on PyPI an
    unrelated project, and ModelArts' own is in its images, never in a package channel."""
    from .moxing_package import WHY, names_moxing

    for item in packages:
        if conda_name(item) == "moxing" if parameter == "conda_packages" else names_moxing(item):
            why = WHY if parameter == "pip_packages" else (
                "ModelArts' MoXing is in its images, in no package channel (local jobs get pytest-modelarts' own "
                "moxing): remove 'moxing' from conda_packages")
            raise ParameterError(owner, parameter, list(packages), f"{item!r}: {why}")
    return packages


@dataclass(frozen=True)
class CondaDependencies:
    """Conda and pip packages of an environment.

    Build it with :meth:`create`, as in the ModelArts SDK::

        CondaDependencies.create(pip_packages=["scikit-learn==1.5.2"], conda_packages=["python=3.11"])
    """

    channels: tuple[str, ...] = ()
    pip_packages: tuple[str, ...] = ()
    conda_packages: tuple[str, ...] = ()
    #: the preset engine (``engine_id``) whose Python and framework these packages pin: set by
    #: :meth:`~pytest_modelarts.core.engines.Engine.environment`, so that the lock records it
    engine: str | None = None

    @classmethod
    def create(
        cls,
        channels: Iterable[str] | None = None,
        pip_packages: Iterable[str] | None = None,
        conda_packages: Iterable[str] | None = None,
    ) -> CondaDependencies:
        owner = "CondaDependencies.create"
        pip = _no_moxing(owner, _str_list(owner, "pip_packages", pip_packages))
        conda = _no_moxing(owner, _str_list(owner, "conda_packages", conda_packages), "conda_packages")
        where = _str_list(owner, "channels", channels)
        check_pip_packages(owner, pip)
        check_conda_packages(owner, conda)
        check_channels(owner, where)
        return cls(channels=where, pip_packages=pip, conda_packages=conda)

    def to_dict(self) -> dict[str, list[str]]:
        found = {
            "channels": list(self.channels),
            "pip_packages": list(self.pip_packages),
            "conda_packages": list(self.conda_packages),
        }
        if self.engine is not None:  # only then: the spec hash of an environment without an engine stays as it was
            found["engine"] = [self.engine]
        return found


@dataclass
class Environment:
    """A named environment for the boot file.

    ``conda`` lists its packages. With ``conda=None`` the local run uses an unisolated interpreter (the current
    one, or the one given to :class:`~pytest_modelarts.Session` as ``local_python``) and says so.

    ``lock_file`` (our addition) says where the ``conda-lock.yml`` of this environment lives; by default it is
    ``<name>.conda-lock.yml`` in the current directory, next to the user's tests, and is meant to be committed.
    """

    name: str
    conda: CondaDependencies | None = None
    lock_file: Path | None = field(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        # the SDK's example assigns ``env.conda = CondaDependencies.create(...)`` after construction: check it then too
        if name == "conda" and value is not None and not isinstance(value, CondaDependencies):
            raise ParameterError(
                "Environment", "conda", value, "must be a CondaDependencies (use CondaDependencies.create(...)) or None"
            )
        if name == "lock_file" and value is not None:
            if not isinstance(value, (str, Path)):
                raise ParameterError("Environment", "lock_file", value, "must be a path or None")
            check_lock_file(value)
            value = Path(value)
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _ENV_NAME.fullmatch(self.name):
            raise ParameterError(
                "Environment", "name", self.name,
                "must be a str of letters, digits, '_', '.', '-' (1-128 chars, starting with a letter or digit)",
            )

    def snapshot(self) -> Environment:
        """A copy, so that a configuration validated now does not change if the user edits the original."""
        return Environment(self.name, self.conda, self.lock_file)

    def default_lock_path(self, base: Path | None = None) -> Path:
        if self.lock_file is not None:
            return self.lock_file if self.lock_file.is_absolute() else (base or Path.cwd()) / self.lock_file
        return (base or Path.cwd()) / f"{self.name}.conda-lock.yml"
