"""``modelarts.environment``: the SDK's ``Environment``."""

from pytest_modelarts.core.environment import Environment

__all__ = ["Environment"]
