"""``modelarts``: the ModelArts SDK's import paths for scripts written against it, when the official SDK is absent.

``from modelarts.session import Session``, ``from modelarts.estimator import Estimator``,
``from modelarts.environment import Environment`` and ``from modelarts.environment.conda_env import
CondaDependencies`` give pytest-modelarts' objects. This package is imported under the name ``modelarts`` by the
finder of ``_pytest_modelarts_alias`` only when no other ``modelarts`` package is installed; with the official
SDK installed, ``import modelarts`` is the official SDK. Each module only re-exports: the objects are the same
as ``pytest_modelarts``'s (``modelarts.session.Session is pytest_modelarts.Session``).
"""

#: tells a script (or a test) which ``modelarts`` it got
PROVIDED_BY = "pytest-modelarts"
