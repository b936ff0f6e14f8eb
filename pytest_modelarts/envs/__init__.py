"""Environments: ``CondaDependencies`` -> ``conda-lock.yml`` (lock) -> cached prefix (build) -> runtime."""

from .runtime import PythonRuntime

__all__ = ["PythonRuntime"]
