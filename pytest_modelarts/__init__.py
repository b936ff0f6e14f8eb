"""pytest-modelarts: smoke-test ModelArts training jobs locally, exactly as the cloud runs them.

The public API mirrors the ModelArts SDK::

    from pytest_modelarts import Session, Estimator, Environment, CondaDependencies
"""

from .config import ContainerOptions, JobConfig
from .environment import CondaDependencies, Environment
from .errors import (
    AuthenticationError,
    BackendError,
    BuildError,
    ConfigurationError,
    EnvError,
    JobError,
    JobFailedError,
    JobStoppedError,
    JobTimeoutError,
    LockError,
    ModelArtsError,
    OnlineError,
    ParameterError,
)
from .estimator import Estimator
from .job import JobPhase, TrainingJob
from .session import LockMode, Session

__all__ = [
    "AuthenticationError", "BackendError", "BuildError", "CondaDependencies", "ConfigurationError",
    "ContainerOptions", "EnvError", "Environment", "Estimator", "JobConfig", "JobError", "JobFailedError",
    "JobPhase", "JobStoppedError", "JobTimeoutError", "LockError", "LockMode", "ModelArtsError", "OnlineError",
    "ParameterError", "Session", "TrainingJob",
]
__version__ = "0.1.0"
