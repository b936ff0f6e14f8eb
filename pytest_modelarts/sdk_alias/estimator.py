"""``modelarts.estimator``: the SDK's ``Estimator``."""

from pytest_modelarts.sdk.estimator import Estimator

__all__ = ["Estimator"]
