"""The plugin's fixtures. ``session`` and ``estimator`` are the short names; ``modelarts_session`` and
``modelarts_estimator`` are the same fixtures for projects whose own ``session`` fixture means something else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..core.session import Session
from .result import JobResult
from .smoke import SmokeEstimator, SmokeRunner
from .stash import RUNNER_KEY


def _runner(request: pytest.FixtureRequest) -> SmokeRunner:
    runner = request.config.stash[RUNNER_KEY]
    assert isinstance(runner, SmokeRunner)
    return runner


@pytest.fixture(scope="session")
def modelarts_session(request: pytest.FixtureRequest) -> Session:
    """The local ModelArts :class:`~pytest_modelarts.Session` of this pytest process (one per xdist worker)."""
    return _runner(request).session()


@pytest.fixture(scope="session")
def session(modelarts_session: Session) -> Session:
    """The local ModelArts Session (the short name; ``modelarts_session`` is the same)."""
    return modelarts_session


@pytest.fixture
def modelarts_estimator(request: pytest.FixtureRequest, modelarts_session: Session) -> SmokeEstimator:
    """An Estimator of the test's ``@pytest.mark.modelarts`` smoke configuration, ``train_instance_type='local'``."""
    return _runner(request).make_estimator(request.node)


@pytest.fixture
def estimator(modelarts_estimator: SmokeEstimator) -> SmokeEstimator:
    """The test's smoke Estimator (the short name; ``modelarts_estimator`` is the same)."""
    return modelarts_estimator


@pytest.fixture
def modelarts_job(request: pytest.FixtureRequest, modelarts_estimator: SmokeEstimator) -> JobResult:
    """Runs the test's smoke job to its end and gives a :class:`~pytest_modelarts.pytest_plugin.result.JobResult`.

    A job that did not complete fails the test with the job's report before the test body runs.
    """
    return _runner(request).run_smoke(request.node, modelarts_estimator)


@pytest.fixture
def modelarts_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ModelArts v2 + OBS emulator on 127.0.0.1 for users' tests of the online path (docs/online.md).

    The emulator (an HTTP server and the SDK's models) is imported only by tests that use it.
    """
    from ..emulator.fixtures import running_emulator

    yield from running_emulator(tmp_path_factory)
