"""The plugin manager the SDK uses outside pytest, with the built-in plugins registered."""

from __future__ import annotations

import functools

import pluggy

from . import hookspecs

#: modules registered as plugins in every plugin manager the project uses, in this order.
BUILTIN_PLUGINS = (
    "pytest_modelarts.backends",
    "pytest_modelarts.backends.local",
    "pytest_modelarts.backends.docker",
    "pytest_modelarts.backends.online",
    "pytest_modelarts.envs.plugin",
)
#: setuptools entry-point group through which third-party packages add plugins outside pytest.
ENTRY_POINT_GROUP = "pytest_modelarts"


def register_builtins(pm: pluggy.PluginManager) -> None:
    """Register the built-in plugins into ``pm`` (pytest's, or the SDK's own)."""
    import importlib

    for name in BUILTIN_PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a backend not written yet must not break the others
            if exc.name != name:
                raise
            continue
        if pm.get_plugin(name) is None:
            pm.register(module, name=name)


@functools.cache
def default_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("pytest")
    pm.add_hookspecs(hookspecs)
    register_builtins(pm)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    pm.check_pending()
    return pm
