"""The hooks of pytest-modelarts.

Under pytest these hooks live in pytest's own plugin manager (added by ``pytest_addhooks``), so a
``conftest.py`` or another plugin implements them like any pytest hook. Outside pytest, the SDK makes a
plugin manager of the same project (see :mod:`pytest_modelarts.plugins`). The built-in backends and the
environment builder are ordinary plugins registered through these same hooks. Hooks are always called with
keyword arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .backends.base import BackendRegistry
    from .config import JobConfig
    from .environment import Environment
    from .envs.runtime import PythonRuntime
    from .job import TrainingJob
    from .promotion import PromotionRecord
    from .session import Session

hookspec = pluggy.HookspecMarker("pytest")
hookimpl = pluggy.HookimplMarker("pytest")


@hookspec
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    """Add backend classes to ``registry`` with ``registry.register(BackendClass)``."""


@hookspec(firstresult=True)
def pytest_modelarts_select_backend(config: JobConfig, session: Session) -> str | None:
    """Return the name of the backend that runs ``config``; the built-in choice is a ``trylast`` implementation."""


@hookspec(firstresult=True)
def pytest_modelarts_resolve_environment(
    environment: Environment | None, config: JobConfig, session: Session
) -> PythonRuntime | None:
    """Return the interpreter and activation a local run of ``config`` uses (lock and build it if needed)."""


@hookspec
def pytest_modelarts_modify_job(config: JobConfig, session: Session) -> Mapping[str, Any] | None:
    """Return field overrides for ``config`` before it runs (applied in call order, then validated again)."""


@hookspec
def pytest_modelarts_job_started(job: TrainingJob) -> None:
    """Called once a job has been handed to its backend."""


@hookspec
def pytest_modelarts_job_finished(job: TrainingJob) -> None:
    """Called once when a job reaches a final phase (Completed, Failed or Terminated)."""


@hookspec
def pytest_modelarts_job_promoted(record: PromotionRecord, config: JobConfig) -> None:
    """Called after a passing smoke test's online configuration ``config`` was promoted (or found in the ledger)."""
