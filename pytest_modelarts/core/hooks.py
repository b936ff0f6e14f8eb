"""The hooks of pytest-modelarts: their specifications and the markers that implement them.

Under pytest these hooks live in pytest's own plugin manager (added by ``pytest_addhooks``), so a ``conftest.py``
or another plugin implements them like any pytest hook. Outside pytest, the SDK makes a plugin manager of the
same project (:func:`pytest_modelarts.core.runner.default_plugin_manager`). The built-in backends and the
environment resolvers are ordinary plugins registered through these same hooks.

Hooks are called with keyword arguments only. The job's configuration is ``job_config`` and the ModelArts
session ``modelarts_session`` (the SDK's own name for it): pytest's hooks already mean something else by
``config`` and ``session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .backend import BackendRegistry
    from .environment import Environment
    from .job import JobConfig
    from .runtime import PythonRuntime
    from .session import Session
    from .training_job import TrainingJob

hookspec = pluggy.HookspecMarker("pytest")
hookimpl = pluggy.HookimplMarker("pytest")


@hookspec
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    """Add backend classes to ``registry`` with ``registry.register(BackendClass)``."""


@hookspec(firstresult=True)
def pytest_modelarts_select_backend(job_config: JobConfig, modelarts_session: Session) -> str | None:
    """Return the name of the backend that runs ``job_config``; the built-in choice is a ``trylast`` implementation."""


@hookspec(firstresult=True)
def pytest_modelarts_resolve_environment(
    environment: Environment | None, job_config: JobConfig, modelarts_session: Session
) -> PythonRuntime | None:
    """Return the interpreter and activation a local run of ``job_config`` uses (lock and build it if needed)."""


@hookspec
def pytest_modelarts_modify_job(job_config: JobConfig, modelarts_session: Session) -> Mapping[str, Any] | None:
    """Return field overrides for ``job_config`` before it runs (applied in call order with ``JobConfig.evolve``)."""


@hookspec
def pytest_modelarts_job_started(job: TrainingJob) -> None:
    """Called once a job has been handed to its backend."""


@hookspec
def pytest_modelarts_job_finished(job: TrainingJob) -> None:
    """Called once when a job reaches a final phase (Completed, Failed or Terminated)."""


@hookspec
def pytest_modelarts_job_promoted(record: Any, job_config: JobConfig) -> None:
    """Called after a passing smoke test's online configuration ``job_config`` was promoted (or found in the ledger).

    ``record`` is a :class:`pytest_modelarts.promotion.PromotionRecord`.
    """
