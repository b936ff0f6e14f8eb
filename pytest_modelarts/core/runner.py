"""The runner: the one way a validated job is started, whoever asks (the SDK's ``fit``, the pytest plugin, promotion).

:func:`start_job` lets plugins modify the job (``pytest_modelarts_modify_job``), picks its backend
(``backend=`` or ``pytest_modelarts_select_backend``), has the backend check it, resolves its environment when
the backend runs the boot file on this machine (``pytest_modelarts_resolve_environment``), starts it, and
announces it (``pytest_modelarts_job_started``). Backends and environment resolvers are plugins: the runner
knows them by module name only (:data:`BUILTIN_PLUGINS`), never by import.
"""

from __future__ import annotations

import functools
import importlib
import secrets
import weakref

import pluggy

from ..errors import ConfigurationError
from . import hooks
from .backend import Backend, BackendRegistry
from .job import JobConfig
from .plan import engine_of, plan_job
from .session import Session
from .training_job import TrainingJob

#: modules registered as plugins in every plugin manager the project uses, in this order (tox's explicit tuple)
BUILTIN_PLUGINS = (
    "pytest_modelarts.backends",
    "pytest_modelarts.backends.local.backend",
    "pytest_modelarts.backends.docker.backend",
    "pytest_modelarts.backends.online.backend",
    "pytest_modelarts.envs.plugin",
)
#: setuptools entry-point group through which third-party packages add plugins outside pytest
ENTRY_POINT_GROUP = "pytest_modelarts"


def register_builtins(pm: pluggy.PluginManager) -> None:
    """Register the built-in plugins into ``pm`` (pytest's, or the SDK's own)."""
    for name in BUILTIN_PLUGINS:
        if pm.get_plugin(name) is None:
            pm.register(importlib.import_module(name), name=name)


def new_plugin_manager(extra: dict[str, object] | None = None) -> pluggy.PluginManager:
    """A plugin manager with the hooks, the built-in plugins, the entry points and ``extra`` (name -> plugin)."""
    pm = pluggy.PluginManager("pytest")
    pm.add_hookspecs(hooks)
    register_builtins(pm)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, plugin in (extra or {}).items():
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


@functools.cache
def default_plugin_manager() -> pluggy.PluginManager:
    """The SDK's plugin manager outside pytest: the hooks, the built-in plugins and the entry points."""
    return new_plugin_manager()


def plugin_manager_of(session: Session) -> pluggy.PluginManager:
    """The session's plugin manager (pytest's, under pytest), else the SDK's own."""
    return session.plugin_manager or default_plugin_manager()


#: the backends each plugin manager's plugins registered, collected once per plugin manager (a plugin registered
#: later, e.g. a conftest's, is seen: the cache is keyed by the managers' plugins too)
_REGISTRIES: weakref.WeakKeyDictionary[pluggy.PluginManager, tuple[frozenset[int], BackendRegistry]] = weakref.WeakKeyDictionary()


def collect_backends(pm: pluggy.PluginManager) -> BackendRegistry:
    """The backends ``pm``'s plugins register (``pytest_modelarts_register_backends``), asked once per set of plugins."""
    plugins = frozenset(id(p) for p in pm.get_plugins())
    cached = _REGISTRIES.get(pm)
    if cached is not None and cached[0] == plugins:
        return cached[1]
    registry = BackendRegistry()
    pm.hook.pytest_modelarts_register_backends(registry=registry)
    _REGISTRIES[pm] = (plugins, registry)
    return registry


def backend_for(config: JobConfig, session: Session, name: str | None = None) -> Backend:
    """The backend (``name``, else the job's own choice, else the hooks') that runs ``config``."""
    pm = plugin_manager_of(session)
    name = name or config.backend or pm.hook.pytest_modelarts_select_backend(job_config=config, modelarts_session=session)
    return backend_named(name, session)


def backend_named(name: str, session: Session) -> Backend:
    """Backend ``name`` of the session's plugins, for ``session``."""
    return collect_backends(plugin_manager_of(session)).get(name)(session)


def prepare_backend(session: Session, name: str) -> None:
    """Let backend ``name`` start ahead what its first job of ``session`` would wait for (see Backend.prepare)."""
    _PREPARED.add(name)
    backend_named(name, session).prepare()


#: the backends whose prepare() ran in this process: the first job of each other one calls it itself
_PREPARED: set[str] = set()


def start_job(config: JobConfig, session: Session) -> TrainingJob:
    """Hand a validated, fitted configuration to its backend (after plugins had their say) and return the job."""
    pm = plugin_manager_of(session)
    hook = pm.hook
    for overrides in hook.pytest_modelarts_modify_job(job_config=config, modelarts_session=session):
        if overrides:
            config = config.evolve(**overrides)
    backend = backend_for(config, session)
    backend.validate(config)
    if backend.name not in _PREPARED:  # the first job of the process (the SDK's): what the backend starts ahead
        _PREPARED.add(backend.name)  # (a probe, a supervisor, a holder) overlaps the environment's resolution
        backend.prepare()
    runtime = None
    if backend.needs_runtime:
        engine = engine_of(config)  # a preset engine's Python and framework, with the job's Environment on top
        environment = engine.environment(config.environment) if engine is not None else config.environment
        runtime = hook.pytest_modelarts_resolve_environment(environment=environment, job_config=config,
                                                            modelarts_session=session)
        if runtime is None:
            raise ConfigurationError(f"no plugin could provide the environment {config.environment!r}")
    job_id = secrets.token_hex(4)
    execution = backend.start(plan_job(config, session, runtime, job_id))
    job = TrainingJob(config=config, job_id=execution.service_job_id or job_id, backend=backend.name,
                      execution=execution, hook=hook, runtime=runtime)
    hook.pytest_modelarts_job_started(job=job)
    return job


def attach_job(config: JobConfig, session: Session, job_id: str) -> TrainingJob:
    """The handle of a job started earlier (e.g. by an earlier promotion) by the backend that runs ``config``."""
    pm = plugin_manager_of(session)
    backend = backend_for(config, session)
    execution = backend.attach(job_id, config)
    return TrainingJob(config=config, job_id=job_id, backend=backend.name, execution=execution, hook=pm.hook, runtime=None)
