"""``CondaDependencies`` -> ``conda-lock.yml``.

Conda packages are solved in-process with py-rattler against the spec's channels (no conda or mamba
executable needed); pip packages are resolved by uv, with hashes, for the solved Python's version and this
machine's platform. The result is written with conda-lock's own lock-file models (format version 1, as
``conda-lock lock`` writes it), so ``conda-lock render`` and conda-lock's parser accept it.

What conda-lock's format has no field for goes into ``metadata.custom_metadata`` under ``pytest-modelarts.*``:
the hash of the spec the lock was made from (which is also ``content_hash`` for the platform), the spec
itself (to say what changed when the lock is stale), where ``python`` comes from (``conda`` or ``local``) and
the Python version pip packages were resolved for.

Modes (:class:`~pytest_modelarts.session.LockMode`): ``create`` locks when the file is missing or was made from
another spec; ``check`` never locks and fails on a missing or stale lock; ``update`` always re-solves.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform as _platform
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..environment import CondaDependencies
from ..errors import LockError
from ..session import LockMode
from .cache import EnvCache, lock_key
from .progress import Progress

#: channels used when the spec names none (ModelArts images resolve against their own defaults).
DEFAULT_CHANNELS = ("conda-forge",)
#: ``PYTEST_MODELARTS_PYTHON``: where ``python`` comes from; ``local`` is the explicit fast path.
PYTHON_SOURCE_ENV = "PYTEST_MODELARTS_PYTHON"
PYTHON_SOURCES = ("conda", "local")
META = "pytest-modelarts."


def current_platform() -> str:
    """The conda subdir of this machine (``linux-64``, ``linux-aarch64``...)."""
    from rattler import Subdir

    return str(Subdir.current())


@dataclass(frozen=True)
class LockedPackage:
    """One package of a lock, as the builder needs it."""

    manager: str  # "conda" | "pip"
    name: str
    version: str
    platform: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    build: str | None = None

    def row(self) -> tuple[str | None, ...]:
        return (self.manager, self.name, self.version, self.platform, self.url, self.md5, self.sha256)


@dataclass(frozen=True)
class LockedEnvironment:
    """A lock read or written by :func:`lock_environment`."""

    path: Path
    platform: str
    python_source: str
    python_spec: str
    python_version: str  # major.minor the pip packages were resolved for
    spec_hash: str
    channels: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    written: bool = False  # True when this call (re)wrote the file
    key: str = field(default="", compare=False)

    @property
    def conda(self) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.manager == "conda")

    @property
    def pip(self) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.manager == "pip")


def python_source_for(spec: CondaDependencies, requested: str | None = None) -> str:
    """``conda`` or ``local``: from ``requested``, else ``$PYTEST_MODELARTS_PYTHON``, else ``conda``."""
    source = (requested or os.environ.get(PYTHON_SOURCE_ENV) or "conda").strip().lower()
    if source not in PYTHON_SOURCES:
        raise LockError(f"{PYTHON_SOURCE_ENV}={source!r}: must be one of {', '.join(PYTHON_SOURCES)}")
    if source == "local":
        others = [s for s in spec.conda_packages if _spec_name(s) != "python"]
        if others:
            raise LockError(
                f"a local interpreter can serve only environments whose conda_packages pin just python; "
                f"this one also needs {others}: use python from conda (Session(python_source='conda'), pytest "
                f"--modelarts-python-source=conda or {PYTHON_SOURCE_ENV}=conda)"
            )
    return source


def _spec_name(spec: str) -> str:
    return re.split(r"[\s=<>!~\[]", spec.strip(), maxsplit=1)[0].lower()


def python_version_spec(spec: CondaDependencies) -> str:
    """The version part of the spec's ``python`` conda package as a conda version spec (``"3.11.*"``), or ``"*"``."""
    from rattler import MatchSpec

    for item in spec.conda_packages:
        if _spec_name(item) == "python":
            try:
                version = MatchSpec(item).version
            except Exception as exc:  # rattler's InvalidMatchSpecError
                raise LockError(f"conda package spec {item!r} is invalid: {exc}") from None
            return str(version) if version else "*"
    return "*"


def spec_hash(spec: CondaDependencies, python_source: str, platform: str) -> str:
    import hashlib

    payload = json.dumps({"spec": spec.to_dict(), "python": python_source, "platform": platform}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


# --- reading -------------------------------------------------------------------------------------------------

_READ_MEMO: dict[tuple[str, int, int], LockedEnvironment] = {}


def read_lock(path: Path) -> LockedEnvironment | None:
    """Read a lock written by this module; None when the file is missing.

    This is the fast path taken on every run (a YAML load, memoized on the file's mtime and size); the builder
    validates the file with conda-lock's own parser (:func:`parse_with_conda_lock`) before it realises it.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    memo_key = (str(path), st.st_mtime_ns, st.st_size)
    if memo_key in _READ_MEMO:
        return _READ_MEMO[memo_key]
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        content = yaml.load(path.read_text(), Loader=loader)
        meta = content["metadata"]
        custom = meta.get("custom_metadata") or {}
        platform = meta["platforms"][0]
        packages = tuple(
            sorted(
                {
                    LockedPackage(
                        p["manager"], p["name"], str(p["version"]), p["platform"], p["url"],
                        (p.get("hash") or {}).get("md5"), (p.get("hash") or {}).get("sha256"), p.get("build"),
                    )
                    for p in content.get("package") or []
                },
                key=lambda p: (p.manager, p.name, p.platform),
            )
        )
        locked = LockedEnvironment(
            path=path,
            platform=platform,
            python_source=custom[META + "python"],
            python_spec=custom[META + "python-spec"],
            python_version=custom[META + "python-version"],
            spec_hash=custom[META + "spec-hash"],
            channels=tuple(json.loads(custom.get(META + "spec", "{}")).get("channels", [])),
            packages=packages,
        )
    except (KeyError, TypeError, IndexError, ValueError, yaml.YAMLError) as exc:
        raise LockError(
            f"{path} is not a conda-lock.yml written by pytest-modelarts ({type(exc).__name__}: {exc}); "
            "delete it or re-lock with lock_mode='update' (pytest --modelarts-lock-mode=update)"
        ) from None
    locked = _with_key(locked)
    _READ_MEMO[memo_key] = locked
    return locked


def _with_key(locked: LockedEnvironment) -> LockedEnvironment:
    from dataclasses import replace

    key = lock_key((p.row() for p in locked.packages), python_source=locked.python_source,
                   python_spec=locked.python_spec, platform=locked.platform)
    return replace(locked, key=key)


def _import_conda_lock() -> None:
    """Import conda-lock's modules once, without the deprecation warnings its vendored conda emits on import
    (they concern conda-lock, not our users' code, and would show in every pytest run's summary)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import conda_lock.lockfile  # noqa: F401
        import conda_lock.lockfile.v2prelim.models  # noqa: F401
        import conda_lock.models.channel  # noqa: F401


def parse_with_conda_lock(path: Path):  # noqa: ANN201 - conda_lock's Lockfile; imported lazily (slow import)
    """Parse ``path`` with conda-lock's own parser (raises :class:`LockError` when it refuses the file)."""
    _import_conda_lock()
    from conda_lock.lockfile import parse_conda_lock_file

    try:
        return parse_conda_lock_file(path)
    except Exception as exc:
        raise LockError(f"conda-lock cannot parse {path}: {exc}") from exc


def _spec_of(path: Path) -> dict[str, list[str]] | None:
    import yaml

    try:
        content = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return json.loads(content["metadata"]["custom_metadata"][META + "spec"])
    except Exception:
        return None


def _describe_change(old: dict[str, list[str]] | None, new: CondaDependencies) -> str:
    if old is None:
        return "it was not made by pytest-modelarts"
    parts = []
    for name, items in new.to_dict().items():
        before = old.get(name, [])
        added = [i for i in items if i not in before]
        removed = [i for i in before if i not in items]
        if added:
            parts.append(f"{name} added {added}")
        if removed:
            parts.append(f"{name} removed {removed}")
    return "; ".join(parts) or "the python source or platform changed"


# --- solving -------------------------------------------------------------------------------------------------


def _split_dep(dep: str) -> tuple[str, str]:
    name, _, rest = dep.strip().partition(" ")
    return name, rest.strip() or "*"


async def _solve_conda(channels: Sequence[str], specs: Sequence[str], platform: str, cache: EnvCache):
    import rattler
    from rattler import Gateway, VirtualPackage
    from rattler.exceptions import GatewayError, SolverError

    for item in specs:
        try:
            rattler.MatchSpec(item)
        except Exception as exc:
            raise LockError(f"conda package spec {item!r} is invalid: {exc}") from None
    gateway = Gateway(cache_dir=cache.repodata)
    try:
        return await rattler.solve(
            sources=list(channels), specs=list(specs), gateway=gateway, platforms=[platform, "noarch"],
            virtual_packages=VirtualPackage.detect(), channel_relations="disabled",
        )
    except SolverError as exc:
        raise LockError(
            f"conda packages {list(specs)} cannot be solved from channels {list(channels)} for {platform}:\n{exc}"
        ) from None
    except Exception as exc:  # GatewayError, FetchRepoDataError, ... : a channel that cannot be read
        kind = "cannot be reached" if not isinstance(exc, (GatewayError,)) else "cannot be read"
        raise LockError(f"a conda channel of {list(channels)} {kind}: {exc}") from None


def _python_platform(platform: str) -> str:
    """uv's ``--python-platform`` for this machine: manylinux of the running glibc (uv knows 2.17 .. 2.40)."""
    arch = {"linux-64": "x86_64", "linux-aarch64": "aarch64"}.get(platform)
    if arch is None:
        return {"osx-64": "x86_64-apple-darwin", "osx-arm64": "aarch64-apple-darwin", "win-64": "windows"}.get(platform, "linux")
    lib, version = _platform.libc_ver()
    minor = 17
    if lib == "glibc" and version:
        minor = max(17, min(40, int(version.split(".")[1])))
    return f"{arch}-manylinux_2_{minor}"


def _wheel_rank(python_version: str):  # noqa: ANN202
    from packaging.tags import compatible_tags, cpython_tags, platform_tags

    major, minor = (int(x) for x in python_version.split(".")[:2])
    platforms = list(platform_tags())
    tags = list(cpython_tags((major, minor), platforms=platforms)) + list(compatible_tags((major, minor), f"cp{major}{minor}", platforms))
    return {tag: i for i, tag in enumerate(tags)}


def _resolve_pip(pip_packages: Sequence[str], python_version: str, platform: str, progress: Progress) -> list:
    """uv pip compile -> locked pip packages (one artifact each: the best wheel for this machine, else the sdist)."""
    _import_conda_lock()
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency
    from packaging.utils import parse_wheel_filename
    from uv import find_uv_bin

    args = [
        find_uv_bin(), "pip", "compile", "-", "--format", "pylock.toml", "--no-header", "--quiet",
        "--python-version", python_version, "--python-platform", _python_platform(platform),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON")}
    proc = subprocess.run(args, input="\n".join(pip_packages) + "\n", capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        message = proc.stderr.strip()
        offending = [p for p in pip_packages if re.split(r"[\s=<>!~\[;@]", p, maxsplit=1)[0].lower() in message.lower()]
        what = f"pip package(s) {offending}" if offending else f"pip packages {list(pip_packages)}"
        flat = " ".join(message.split())  # uv wraps its messages to the terminal width
        hint = " (unknown to the package index)" if "not found in the package registry" in flat else ""
        raise LockError(f"{what}{hint} cannot be resolved for Python {python_version} on {platform}:\n{message}")
    data = tomllib.loads(proc.stdout)
    rank = _wheel_rank(python_version)
    locked = []
    for pkg in data.get("packages", []):
        artifact = None
        best = None
        for wheel in pkg.get("wheels", []):
            fname = wheel["url"].rsplit("/", 1)[-1]
            try:
                tags = parse_wheel_filename(fname)[3]
            except Exception:
                continue
            score = min((rank[t] for t in tags if t in rank), default=None)
            if score is not None and (best is None or score < best):
                best, artifact = score, wheel
        if artifact is None:
            artifact = pkg.get("sdist")
        if artifact is None or "url" not in artifact:
            raise LockError(f"pip package {pkg['name']}=={pkg.get('version')} has no file uv can lock by URL and hash")
        locked.append(
            LockedDependency(
                name=pkg["name"], version=str(pkg["version"]), manager="pip", platform=platform, dependencies={},
                url=artifact["url"], hash=HashModel(sha256=artifact["hashes"]["sha256"]), categories={"main"},
            )
        )
    return locked


def solve(
    spec: CondaDependencies,
    *,
    path: Path,
    python_source: str,
    cache: EnvCache,
    platform: str | None = None,
    progress: Progress | None = None,
) -> LockedEnvironment:
    """Solve ``spec`` and write the lock to ``path`` (atomically). Returns the written lock."""
    _import_conda_lock()
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta
    from conda_lock.models.channel import Channel

    progress = progress or Progress()
    platform = platform or current_platform()
    python_spec = python_version_spec(spec)
    channels = list(spec.channels) or (list(DEFAULT_CHANNELS) if python_source == "conda" else [])
    packages: list = []
    if python_source == "conda":
        specs = list(spec.conda_packages)
        if not any(_spec_name(s) == "python" for s in specs):
            specs.append("python")  # the boot file needs an interpreter
        with progress.step(f"solving conda packages {specs}"):
            records = asyncio.run(_solve_conda(channels, specs, platform, cache))
        python_version = None
        for r in records:
            name = r.name.normalized
            if name == "python":
                python_version = ".".join(str(r.version).split(".")[:2])
            packages.append(
                LockedDependency(
                    name=name, version=str(r.version), manager="conda", platform=platform,
                    dependencies=dict(_split_dep(d) for d in r.depends), url=r.url,
                    hash=HashModel(md5=r.md5.hex() if r.md5 else None, sha256=r.sha256.hex() if r.sha256 else None),
                    build=str(r.build), categories={"main"},
                )
            )
        if python_version is None:
            raise LockError(f"the solution of {specs} has no python package: add python to conda_packages")
    else:
        from .interpreters import select_interpreter

        interp = select_interpreter(python_spec)
        python_version = interp.minor
        progress.info(f"python from a local interpreter (explicit choice: python_source=local): {interp}")
    if spec.pip_packages:
        with progress.step(f"resolving pip packages {list(spec.pip_packages)} for Python {python_version}"):
            packages += _resolve_pip(spec.pip_packages, python_version, platform, progress)
    digest = spec_hash(spec, python_source, platform)
    meta = LockMeta(
        content_hash={platform: digest},
        channels=[Channel.from_string(c) for c in channels],
        platforms=[platform],
        sources=[],
        custom_metadata={
            META + "spec-hash": digest,
            META + "spec": json.dumps(spec.to_dict(), sort_keys=True),
            META + "python": python_source,
            META + "python-spec": python_spec,
            META + "python-version": python_version,
        },
    )
    lockfile = Lockfile(package=packages, metadata=meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".lock-", dir=path.parent))
    try:
        tmp = tmpdir / path.name  # conda-lock writes the file's name into its help text
        write_conda_lock_file(lockfile, tmp, metadata_choices=None, include_help_text=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    locked = read_lock(path)
    assert locked is not None
    from dataclasses import replace

    return replace(locked, written=True)


def lock_environment(
    spec: CondaDependencies,
    path: Path,
    mode: LockMode | str = LockMode.CREATE,
    *,
    cache_dir: os.PathLike[str] | str | None = None,
    python_source: str | None = None,
    platform: str | None = None,
    progress: Progress | None = None,
) -> LockedEnvironment:
    """Make sure ``path`` holds a lock of ``spec`` according to ``mode``, and return it.

    ``create``: lock when missing or made from another spec. ``check``: raise :class:`LockError` when missing
    or stale, never lock. ``update``: always re-solve. Concurrent callers (pytest-xdist workers) are serialized
    by a file lock in the cache dir, and the file is replaced atomically.
    """
    import filelock

    mode = LockMode.parse(mode, owner="lock_environment", parameter="mode")
    platform = platform or current_platform()
    source = python_source_for(spec, python_source)
    digest = spec_hash(spec, source, platform)
    path = Path(path).absolute()
    if mode is not LockMode.UPDATE:
        existing = read_lock(path)
        if existing is not None and existing.spec_hash == digest:
            return existing
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
    cache = EnvCache.at(cache_dir)
    cache.locks.mkdir(parents=True, exist_ok=True)
    import hashlib

    guard = cache.locks / f"lockfile-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.lock"
    with filelock.FileLock(str(guard)):
        if mode is not LockMode.UPDATE:
            existing = read_lock(path)  # another process may have written it while we waited
            if existing is not None and existing.spec_hash == digest:
                return existing
        return solve(spec, path=path, python_source=source, cache=cache, platform=platform, progress=progress)
