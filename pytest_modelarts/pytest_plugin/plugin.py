"""The pytest plugin: ``pytest --modelarts`` runs ModelArts smoke tests locally, as the cloud would.

This module is the entry point (``pytest11``): it adds the project's hooks (:mod:`pytest_modelarts.core.hooks`) and
built-in plugins to pytest's plugin manager, the options (:mod:`.options`), the ``modelarts`` marker
(:mod:`.marker`), the fixtures (:mod:`.fixtures`), and registers the :class:`~.smoke.SmokeRunner` that runs and
reports the smoke tests, and its :class:`~.progress.ProgressReporter` (locking, building, job start on the terminal).
Job files: :mod:`.jobfile`. Reports: :mod:`.reporting`.
"""

from __future__ import annotations

import pytest

from ..core import hooks
from ..core.runner import register_builtins
from .fixtures import estimator, modelarts_emulator, modelarts_estimator, modelarts_job, modelarts_session, session
from .marker import MARKER_HELP
from .options import Settings, add_options
from .smoke import SmokeRunner
from .stash import RUNNER_KEY

RUNNER_NAME = "modelarts-runner"
PROGRESS_NAME = "modelarts-progress"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)
    register_builtins(pluginmanager)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    runner = SmokeRunner(config, Settings.from_config(config))
    config.stash[RUNNER_KEY] = runner
    config.pluginmanager.register(runner, RUNNER_NAME)
    config.pluginmanager.register(runner.progress, PROGRESS_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    if RUNNER_KEY in config.stash:
        config.pluginmanager.unregister(name=RUNNER_NAME)
        config.pluginmanager.unregister(name=PROGRESS_NAME)
        del config.stash[RUNNER_KEY]


__all__ = ["estimator", "modelarts_emulator", "modelarts_estimator", "modelarts_job", "modelarts_session", "session"]
