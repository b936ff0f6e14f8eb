"""Fixtures of the environment tests: the local conda channel and a package cache shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment
from tests.support.conda_channel import LocalChannel, conda_channel  # noqa: F401  (fixture)


@pytest.fixture(scope="session", autouse=True)
def shared_package_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One rattler package cache for every cache dir of the session: the python package is extracted once."""
    pkgs = tmp_path_factory.mktemp("pkgs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTEST_MODELARTS_PKGS_DIR", str(pkgs))
        mp.delenv("PYTEST_MODELARTS_PYTHON", raising=False)
        yield pkgs


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def full_env(channel: LocalChannel, name: str = "full", **kwargs: object) -> Environment:
    """conda packages from the local channel and a pip package from PyPI."""
    return Environment(
        name,
        conda=CondaDependencies.create(
            channels=[channel.url],
            conda_packages=kwargs.get("conda_packages", ["python=3.11", "mini-tool", "minipy"]),
            pip_packages=kwargs.get("pip_packages", ["six==1.16.0"]),
        ),
    )
