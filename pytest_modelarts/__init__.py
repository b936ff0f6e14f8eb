"""pytest-modelarts: smoke-test ModelArts training jobs locally, exactly as the cloud runs them.

The public API mirrors the ModelArts SDK::

    from pytest_modelarts import Session, Estimator, Environment, CondaDependencies

Layout (each arrow an import, always downwards): ``pytest_plugin`` and ``cli`` -> ``emulator`` -> ``sdk`` and
``promotion`` -> ``core.runner`` -> ``backends`` and ``envs`` -> the core types in ``core`` -> ``errors``.
"""

from .core.container import ContainerOptions
from .core.environment import CondaDependencies, Environment
from .core.hyperparameters import Hyperparameters
from .core.job import JobConfig
from .core.location import Location
from .core.phase import JobPhase
from .core.session import LockMode, PythonSource, Session
from .core.training_job import TrainingJob
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
from .sdk import Estimator

__all__ = [
    "AuthenticationError", "BackendError", "BuildError", "CondaDependencies", "ConfigurationError",
    "ContainerOptions", "EnvError", "Environment", "Estimator", "Hyperparameters", "JobConfig", "JobError",
    "JobFailedError", "JobPhase", "JobStoppedError", "JobTimeoutError", "Location", "LockError", "LockMode",
    "ModelArtsError", "OnlineError", "ParameterError", "PythonSource", "Session", "TrainingJob",
]
__version__ = "0.1.0"
