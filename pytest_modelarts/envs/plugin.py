"""The built-in environment resolvers, registered as a plugin like any other.

* an Environment with ``conda`` set is locked (``environment.default_lock_path()``, mode ``modelarts_session.lock_mode``),
  built into the cache (``modelarts_session.cache_dir`` or the platformdirs user cache dir) and run with its interpreter;
  the steps are told to ``modelarts_session.progress`` (else on stderr);
* without packages (the ``trylast`` fallback), the session's interpreter runs the job, labelled unisolated.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

# Imported with the plugin on purpose: PyYAML's C extension keeps references to the yaml package it was first
# loaded with, so a yaml imported lazily inside an in-process pytest run (pytester), then dropped from
# sys.modules and imported again, fails every load with "could not determine a constructor for the tag None".
import yaml  # noqa: F401

from ..core.hooks import hookimpl
from ..core.runtime import PythonRuntime

if TYPE_CHECKING:
    from ..core.environment import Environment
    from ..core.job import JobConfig
    from ..core.session import Session
    from .lock import LockClaims


@hookimpl
def pytest_modelarts_resolve_environment(
    environment: Environment | None, job_config: JobConfig, modelarts_session: Session
) -> PythonRuntime | None:
    """Lock and build an Environment with conda dependencies; return its activated interpreter."""
    if environment is None or environment.conda is None:
        return None
    from .build import ensure_environment
    from .progress import Progress

    sink = modelarts_session.progress
    built = ensure_environment(
        environment,
        cache_dir=modelarts_session.cache_dir,
        lock_mode=modelarts_session.lock_mode,
        python_source=modelarts_session.python_source,
        progress=Progress(sink=sink) if sink is not None else None,
        claims=_claims_of(modelarts_session),
    )
    return built.runtime()


_CLAIMS: weakref.WeakKeyDictionary[Session, LockClaims] = weakref.WeakKeyDictionary()


def _claims_of(session: Session) -> LockClaims:
    """The session's lock claims: two environments of one name are refused within a session."""
    from .lock import LockClaims

    claims = _CLAIMS.get(session)
    if claims is None:
        claims = _CLAIMS[session] = LockClaims()
    return claims


# named pytest_* because pytest only considers attributes with that prefix as hook implementations
@hookimpl(trylast=True, specname="pytest_modelarts_resolve_environment")
def pytest_modelarts_resolve_environment_unisolated(
    environment: Environment | None, job_config: JobConfig, modelarts_session: Session
) -> PythonRuntime | None:
    """Without packages to install, run with the session's interpreter, labelled unisolated."""
    if environment is None or environment.conda is None:
        return PythonRuntime.unisolated(modelarts_session.local_python)
    return None
