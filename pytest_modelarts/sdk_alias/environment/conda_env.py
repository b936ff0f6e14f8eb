"""``modelarts.environment.conda_env``: the SDK's ``CondaDependencies``."""

from pytest_modelarts.core.environment import CondaDependencies

__all__ = ["CondaDependencies"]
