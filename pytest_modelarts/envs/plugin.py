"""The built-in environment resolver, registered as a plugin like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from .runtime import PythonRuntime

if TYPE_CHECKING:
    from ..config import JobConfig
    from ..environment import Environment
    from ..session import Session


@hookimpl(trylast=True)
def pytest_modelarts_resolve_environment(
    environment: Environment | None, config: JobConfig, session: Session
) -> PythonRuntime | None:
    """Without packages to install, run with the session's interpreter, labelled unisolated."""
    if environment is None or environment.conda is None:
        return PythonRuntime.unisolated(session.local_python)
    return None  # a locked environment is the builder's (pytest_modelarts.envs.build)
