"""Environments: ``CondaDependencies`` -> ``conda-lock.yml`` (lock) -> cached prefix (build) -> ``PythonRuntime``."""
