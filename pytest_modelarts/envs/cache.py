"""Where built environments live, how they are keyed, and how old ones are collected.

Layout of a cache directory (default: the platform's user cache dir of ``pytest-modelarts``)::

    envs/<key>/          finished prefixes; a prefix appears here only by an atomic rename, so it is complete
    staging/<key>-*/     builds in progress (or killed halfway: never used, removed by the next build or gc)
    locks/<key>.lock     one file lock per key: N processes asking for one env build it once
    pkgs/                rattler's package cache (extracted conda packages, hardlinked into prefixes)
    repodata/            rattler's repodata cache
    builds.log           one JSON line per real build (key, seconds, pid), for tests and curiosity

``<key>`` is a hash of the *resolved* lock (see :func:`lock_key`), not of the lock file's bytes or of the spec.
``PYTEST_MODELARTS_PKGS_DIR`` moves ``pkgs/`` elsewhere (to share one package cache between cache dirs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: bump when the layout of built prefixes changes, so old builds are not reused.
BUILD_FORMAT = "1"
#: written into a prefix, before the rename that publishes it.
MARKER = ".pytest-modelarts-env.json"
#: touched on every use; gc looks at its mtime.
LAST_USED = ".pytest-modelarts-last-used"
APP_NAME = "pytest-modelarts"


def default_cache_dir() -> Path:
    """``$PYTEST_MODELARTS_CACHE_DIR``, else the platformdirs user cache dir of ``pytest-modelarts``."""
    env = os.environ.get("PYTEST_MODELARTS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def lock_key(packages: Iterable[Sequence[str | None]], *, python_source: str, python_spec: str, platform: str) -> str:
    """The hash that names a built environment.

    ``packages`` are ``(manager, name, version, platform, url, md5, sha256)`` tuples of the resolved lock; the
    order they come in and the lock file's formatting do not matter.
    """
    rows = sorted({tuple("" if v is None else str(v) for v in p) for p in packages})
    payload = {
        "format": BUILD_FORMAT,
        "python_source": python_source,
        "python_spec": python_spec,
        "platform": platform,
        "packages": rows,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class EnvCache:
    """A cache directory of built environments."""

    root: Path

    @classmethod
    def at(cls, root: os.PathLike[str] | str | None = None) -> EnvCache:
        return cls(Path(root) if root is not None else default_cache_dir())

    @property
    def envs(self) -> Path:
        return self.root / "envs"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def pkgs(self) -> Path:
        env = os.environ.get("PYTEST_MODELARTS_PKGS_DIR")
        return Path(env) if env else self.root / "pkgs"

    @property
    def repodata(self) -> Path:
        return self.root / "repodata"

    @property
    def build_log(self) -> Path:
        return self.root / "builds.log"

    def env_dir(self, key: str) -> Path:
        return self.envs / key

    def lock_path(self, key: str) -> Path:
        return self.locks / f"{key}.lock"

    def touch(self, key: str) -> None:
        try:
            (self.env_dir(key) / LAST_USED).touch()
        except OSError:
            pass

    def builds(self) -> list[dict[str, object]]:
        """The entries of ``builds.log``: one per real build, oldest first."""
        try:
            lines = self.build_log.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def record_build(self, key: str, seconds: float, **extra: object) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": key, "seconds": round(seconds, 3), "pid": os.getpid(), "time": time.time(), **extra})
        with open(self.build_log, "a") as f:  # O_APPEND: concurrent writers do not interleave short lines
            f.write(line + "\n")

    def sweep_staging(self, *, dry_run: bool = False) -> int:
        """Remove the staging dirs whose build no longer holds its lock (leftovers of killed builds, of any key);
        return their bytes. Every build calls it, so a killed build's leftovers go with the next run's first build,
        not only with ``gc``. A lock held by this process counts as held (a second flock of it is refused)."""
        import filelock

        freed = 0
        if not self.staging.is_dir():
            return 0
        for entry in sorted(self.staging.iterdir()):
            key_prefix = entry.name.split("-", 1)[0]
            holders = [p for p in self.locks.glob(f"{key_prefix}*.lock")] if self.locks.is_dir() else []
            busy = False
            for path in holders:
                lock = filelock.FileLock(str(path))
                try:
                    lock.acquire(timeout=0)
                    lock.release()
                except filelock.Timeout:
                    busy = True
            if busy:
                continue
            freed += _disk_usage(entry)
            if not dry_run:
                shutil.rmtree(entry, ignore_errors=True)
        return freed

    def remove_staging(self, key: str) -> None:
        """Remove leftovers of builds of ``key`` (call with the key's lock held)."""
        if self.staging.is_dir():
            for entry in self.staging.glob(f"{key[:16]}-*"):
                shutil.rmtree(entry, ignore_errors=True)


@dataclass(frozen=True)
class GcResult:
    """What :func:`gc` removed."""

    removed: tuple[Path, ...]
    bytes_freed: int
    kept: int

    def __str__(self) -> str:
        return f"removed {len(self.removed)} environment(s), freed {format_bytes(self.bytes_freed)}, kept {self.kept}"


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


def _disk_usage(path: Path, *, linked: bool = False) -> int:
    """Bytes of the files under ``path``: by default only those no other link keeps alive (what removing the
    prefix frees: files hardlinked from a package cache, ``st_nlink > 1``, are not); with ``linked``, every file.
    """
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if linked or st.st_nlink <= 1:
                total += st.st_blocks * 512
    return total


def read_marker(prefix: Path) -> dict[str, Any] | None:
    """The marker of a finished build (the JSON object the builder writes into the prefix), or None."""
    try:
        marker = json.loads((prefix / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _last_used(env: Path) -> float:
    for name in (LAST_USED, MARKER):
        try:
            return (env / name).stat().st_mtime
        except OSError:
            continue
    return env.stat().st_mtime


@dataclass(frozen=True)
class CachedEnvironment:
    """A built environment of the cache, as ``pytest-modelarts env list`` shows it."""

    key: str
    prefix: Path
    name: str  # the name it was last built under (builds.log), else its lock file's stem, else "?"
    python: str  # the interpreter's version, e.g. "3.11.9", else "?"
    size: int  # bytes on disk, hardlinked files (from the package cache) included
    last_used: float  # a timestamp: its last use, else when it was built


def list_environments(cache_dir: os.PathLike[str] | str | None = None) -> list[CachedEnvironment]:
    """The built environments of the cache, most recently used first."""
    import re

    cache = EnvCache.at(cache_dir)
    names = {str(b.get("key")): str(b["name"]) for b in cache.builds() if b.get("name")}  # the last build wins
    found = []
    for env in cache.envs.iterdir() if cache.envs.is_dir() else ():
        marker = read_marker(env)
        if marker is None:
            continue  # not a finished build
        lock = str(marker.get("lock") or "")
        name = names.get(env.name) or (Path(lock).name.split(".")[0] if lock else "?")
        version = re.search(r"python (\d+\.\d+\S*)", str(marker.get("interpreter") or ""))
        found.append(CachedEnvironment(env.name, env, name, version.group(1) if version else "?",
                                       _disk_usage(env, linked=True), _last_used(env)))
    return sorted(found, key=lambda e: (-e.last_used, e.name))


def gc(cache_dir: os.PathLike[str] | str | None = None, *, older_than: float, dry_run: bool = False) -> GcResult:
    """Remove environments not used for ``older_than`` seconds, and leftovers of killed builds.

    An environment being built or used right now is never removed: each removal holds the key's lock, and a
    prefix is first renamed out of ``envs/`` so that no one can pick it up while it is deleted.
    """
    import filelock

    cache = EnvCache.at(cache_dir)
    now = time.time()
    removed: list[Path] = []
    freed = 0
    kept = 0
    candidates = sorted(cache.envs.iterdir()) if cache.envs.is_dir() else []
    for env in candidates:
        if not env.is_dir():
            continue
        if now - _last_used(env) < older_than:
            kept += 1
            continue
        lock = filelock.FileLock(str(cache.lock_path(env.name)))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            kept += 1
            continue
        try:
            size = _disk_usage(env)
            if not dry_run:
                cache.staging.mkdir(parents=True, exist_ok=True)
                trash = cache.staging / f"{env.name[:16]}-gc-{os.getpid()}"
                os.rename(env, trash)
                shutil.rmtree(trash, ignore_errors=True)
            removed.append(env)
            freed += size
        finally:
            lock.release()
    freed += cache.sweep_staging(dry_run=dry_run)
    return GcResult(tuple(removed), freed, kept)


def parse_age(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"15m"``, ``"45s"`` or a number of seconds -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    text = text.strip().lower()
    try:
        age = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        raise ValueError(f"invalid age {text!r}: use a number followed by s, m, h, d or w (e.g. 30d)") from None
    if not 0 <= age < float("inf"):  # a negative or nan age would remove every environment
        raise ValueError(f"invalid age {text!r}: must be >= 0 and finite, a number followed by s, m, h, d or w (e.g. 30d)")
    return age
