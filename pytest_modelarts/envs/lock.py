"""``CondaDependencies`` -> ``conda-lock.yml``.

Conda packages are solved in-process with py-rattler against the spec's channels (no conda or mamba
executable needed); pip packages are resolved by uv, with hashes, for the solved Python's version and this
machine's platform. The result is written with conda-lock's own lock-file models (format version 1, as
``conda-lock lock`` writes it), so ``conda-lock render`` and conda-lock's parser accept it.

What conda-lock's format has no field for goes into ``metadata.custom_metadata`` under ``pytest-modelarts.*``:
the hash of the spec the lock was made from (which is also ``content_hash`` for the platform), the spec
itself (to say what changed when the lock is stale), where ``python`` comes from (``conda`` or ``local``) and
the Python version pip packages were resolved for.

Modes (:class:`~pytest_modelarts.core.session.LockMode`): ``create`` locks when the file is missing or was made from
another spec; ``check`` never locks and fails on a missing or stale lock; ``update`` always re-solves.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from pathlib import Path

from ..core.environment import CondaDependencies
from ..core.session import LockMode, PythonSource
from ..errors import LockError
from .cache import EnvCache
from .lockfile import (
    LockedEnvironment,
    LockedPackage,
    _describe_change,
    _spec_of,
    contents_mismatch,
    current_platform,
    parse_with_conda_lock,
    python_source_for,
    read_lock,
    spec_hash,
)
from .progress import Progress
from .solve import solve

__all__ = ["LockedEnvironment", "LockedPackage", "LockClaims", "lock_environment", "parse_with_conda_lock", "read_lock", "spec_hash"]

class LockClaims:
    """Which spec each lock file was last locked for, within one session.

    Two live ``CondaDependencies`` that differ but lock to one path (two ``Environment``s with the same name)
    would re-lock each other on every fit, so the second is refused. Weak references, so that a spec that was
    replaced and dropped (a notebook cell run again with new packages) frees its path: changing an environment
    is not a conflict, having two at once is. One registry a session (the plugin's, or an SDK user's), not a
    process-wide one: two pytest runs in one process (pytester) are two sessions.
    """

    def __init__(self) -> None:
        self._specs: dict[Path, weakref.ref[CondaDependencies]] = {}

    def claim(self, path: Path, spec: CondaDependencies, name: str) -> None:
        """Refuse ``spec`` for ``path`` when another live, different spec already locked it here."""
        path = Path(path).absolute()
        earlier = self._specs.get(path)
        other = earlier() if earlier is not None else None
        if other is not None and other != spec:
            raise LockError(
                f"two environments named {name!r} with different dependencies lock to {path}: one has "
                f"{other.to_dict()}, the other {spec.to_dict()}; they would re-lock each other on every fit. Give "
                "the Environments different names, or give one its own lock file (Environment(..., lock_file=...))"
            )
        self._specs[path] = weakref.ref(spec)


def lock_environment(
    spec: CondaDependencies,
    path: Path,
    mode: LockMode | str = LockMode.CREATE,
    *,
    cache_dir: os.PathLike[str] | str | None = None,
    python_source: PythonSource | str | None = None,
    platform: str | None = None,
    progress: Progress | None = None,
) -> LockedEnvironment:
    """Make sure ``path`` holds a lock of ``spec`` according to ``mode``, and return it.

    ``create``: lock when missing or made from another spec. ``check``: raise :class:`LockError` when missing
    or stale, never lock. ``update``: always re-solve. Concurrent callers (pytest-xdist workers) are serialized
    by a file lock in the cache dir, and the file is replaced atomically.
    """
    mode = LockMode.parse(mode, "lock_environment", "mode")
    platform = platform or current_platform()
    source = python_source_for(spec, python_source)
    digest = spec_hash(spec, source, platform)
    path = Path(path).absolute()
    if mode is not LockMode.UPDATE:
        existing = read_lock(path)
        if existing is not None and existing.spec_hash == digest:
            mismatch = contents_mismatch(existing, spec, platform)
            if mismatch is None:
                return existing
            raise LockError(
                f"{path} does not hold what its spec asks for: {mismatch}; it was edited or made elsewhere. Re-lock "
                "with lock_mode='update' (Session(lock_mode='update'), or pytest --modelarts-lock-mode=update)"
            )
        if mode is LockMode.CHECK:
            if existing is None:
                raise LockError(
                    f"lock_mode=check: {path} is missing; create it with lock_mode='create' "
                    "(Session(lock_mode='create'), or pytest --modelarts-lock-mode=create) and commit it"
                )
            raise LockError(
                f"lock_mode=check: {path} is stale, the spec changed since it was locked "
                f"({_describe_change(_spec_of(path), spec)}); re-lock with lock_mode='update' "
                "(Session(lock_mode='update'), or pytest --modelarts-lock-mode=update) and commit the result"
            )
    import filelock  # only when locking: it imports asyncio and ssl (~40 ms), which an up-to-date lock need not pay

    cache = EnvCache.at(cache_dir)
    cache.locks.mkdir(parents=True, exist_ok=True)
    guard = cache.locks / f"lockfile-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.lock"
    with filelock.FileLock(str(guard)):
        why = "lock_mode=update"
        if mode is not LockMode.UPDATE:
            existing = read_lock(path)  # another process may have written it while we waited
            if existing is not None and existing.spec_hash == digest:
                return existing
            why = "no lock yet" if existing is None else "the spec changed"
        progress = progress or Progress()
        progress.info(f"locking {_shown(path)} ({why})")
        return solve(spec, path=path, python_source=source, cache=cache, platform=platform, progress=progress)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (shorter on a terminal), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
