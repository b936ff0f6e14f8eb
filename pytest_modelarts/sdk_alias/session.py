"""``modelarts.session``: the SDK's ``Session``."""

from pytest_modelarts.core.session import Session

__all__ = ["Session"]
