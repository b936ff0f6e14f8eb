"""The pytest plugin (filled in by the plugin issue): registers the project's hooks in pytest."""

from __future__ import annotations

import pytest

from . import hookspecs
from .plugins import register_builtins


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)
    register_builtins(pluginmanager)
