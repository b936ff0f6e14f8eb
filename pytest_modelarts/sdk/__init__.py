"""The ModelArts SDK's surface: ``Session``, ``Estimator``, ``Environment``, ``CondaDependencies``, ``fit()``."""

from ..core.environment import CondaDependencies, Environment
from ..core.session import Session
from ..core.training_job import TrainingJob
from .estimator import Estimator

__all__ = ["CondaDependencies", "Environment", "Estimator", "Session", "TrainingJob"]
