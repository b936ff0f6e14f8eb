"""A lock -> a cached prefix, built once, atomically.

* conda packages are installed with py-rattler (hardlinked from its package cache, with the final prefix
  patched into prefix-dependent files although the build happens in a staging dir);
* pip packages are installed with uv, ``--require-hashes --no-deps`` from the lock's URLs and sha256;
* with ``python_source="local"`` the prefix is a relocatable uv venv over a local interpreter instead.

Building happens in ``staging/`` and the finished prefix is renamed into ``envs/<key>``; a file lock per key makes
N processes (pytest-xdist workers) build it once while the others wait. A build killed halfway leaves only a
staging dir, which nothing ever uses and the next build of that key (or ``gc``) removes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from ..core.contract import installer_environment
from ..core.deathsig import die_with_parent
from ..core.environment import Environment
from ..core.oskit import atomic_write
from ..core.runtime import PythonRuntime
from ..core.session import LockMode, PythonSource
from ..errors import BuildError
from . import bytecode, integrity
from .cache import MARKER, EnvCache, read_marker
from .lock import LockClaims, LockedEnvironment, LockedPackage, lock_environment, parse_with_conda_lock
from .progress import Progress

if TYPE_CHECKING:  # rattler is imported lazily, where it is used
    from rattler import RepoDataRecord
    from rattler.platform import SubdirLiteral

    from .interpreters import Interpreter


@dataclass(frozen=True)
class BuiltEnvironment:
    """A built prefix and how to run its interpreter."""

    key: str
    prefix: Path
    python_source: str  # "conda" | "local"
    interpreter: str  # what provides python, e.g. "conda python 3.11.2" or "local cpython 3.11.2 at /usr/bin/python3.11"
    built: bool  # True when this call built it (False: cache hit)
    name: str = "env"

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    def activation(self) -> dict[str, str]:
        """Variables that activate the prefix (besides ``PATH``, which gets ``<prefix>/bin`` in front)."""
        env = {
            "CONDA_PREFIX": str(self.prefix),
            "CONDA_DEFAULT_ENV": self.name,
            "PYTHONNOUSERSITE": "1",
        }
        if self.python_source == "local":
            env["VIRTUAL_ENV"] = str(self.prefix)
        else:
            env["LD_LIBRARY_PATH"] = str(self.prefix / "lib")
        return env

    def runtime(self) -> PythonRuntime:
        return PythonRuntime(
            python=self.python,
            isolated=True,
            label=f"locked env {self.name!r} ({self.interpreter})",
            env_hash=self.key,
            prefix=self.prefix,
            path_prefix=(str(self.prefix / "bin"),),
            env=MappingProxyType(self.activation()),
        )


def _usable(prefix: Path, progress: Progress | None = None) -> dict[str, Any] | None:
    marker = read_marker(prefix)
    if marker is None:
        return None
    # a venv's python links to a local interpreter that may have gone away since
    if not (prefix / "bin" / "python").exists():
        return None
    damaged = integrity.damage(prefix)
    if damaged is not None:
        if progress is not None:
            progress.info(f"environment {prefix.name[:12]} is damaged ({damaged}): it is rebuilt")
        return None
    return marker


def build_environment(
    locked: LockedEnvironment,
    *,
    cache_dir: os.PathLike[str] | str | None = None,
    name: str = "env",
    progress: Progress | None = None,
) -> BuiltEnvironment:
    """Realise ``locked`` into the cache (or find it there) and return the prefix."""
    cache = EnvCache.at(cache_dir)
    key = locked.key
    final = cache.env_dir(key)
    progress = progress or Progress()
    marker = _usable(final, progress)
    if marker is not None:
        cache.touch(key)
        _compile_later(final, marker["interpreter"])  # an earlier process ended before its compile did
        return BuiltEnvironment(key, final, locked.python_source, marker["interpreter"], False, name)
    import filelock  # only to build: it imports asyncio and ssl (~40 ms), which a built environment need not pay

    for d in (cache.locks, cache.staging, cache.envs):
        d.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(cache.lock_path(key))):
        marker = _usable(final)
        if marker is not None:  # built by another process while we waited
            cache.touch(key)
            _compile_later(final, marker["interpreter"])
            return BuiltEnvironment(key, final, locked.python_source, marker["interpreter"], False, name)
        cache.remove_staging(key)  # leftovers of a killed build
        cache.sweep_staging()  # and of killed builds of other environments
        if final.exists():  # published but broken (its local interpreter is gone, a file damaged): rebuild
            bytecode.stop(final)
            trash = cache.staging / f"{key[:16]}-broken"
            os.rename(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
            integrity.forget(final)
        start = time.perf_counter()
        staging = Path(tempfile.mkdtemp(prefix=f"{key[:16]}-", dir=cache.staging))
        progress.info(f"building environment {name!r} ({key[:12]}) from {locked.path}")
        try:
            parse_with_conda_lock(locked.path)  # the lock must be one conda-lock itself accepts
            if locked.python_source == "local":
                interpreter = _make_venv(locked, staging, progress)
            else:
                interpreter = _install_conda(locked, staging, final, cache, progress)
            if locked.pip:
                _install_pip(locked.pip, staging, progress)
                if locked.python_source != "local":
                    _fix_shebangs(staging, final)
            (staging / MARKER).write_text(
                json.dumps({"key": key, "lock": str(locked.path), "interpreter": interpreter, "python_source": locked.python_source,
                            "created": time.time()}, indent=2)
            )
            (staging / ".pytest-modelarts-last-used").touch()
            integrity.seal(staging)  # read-only files, and their record (checked at every first use in a process)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        seconds = time.perf_counter() - start
        cache.record_build(key, seconds, name=name)
        progress.info(f"environment {name!r} ready in {seconds:.2f}s at {final} (python: {interpreter})")
        _compile_later(final, interpreter)
        return BuiltEnvironment(key, final, locked.python_source, interpreter, True, name)


# --- conda ---------------------------------------------------------------------------------------------------


async def _records_for(packages: tuple[LockedPackage, ...], platform: str, cache: EnvCache) -> list[RepoDataRecord]:
    """The channels' own repodata records of the locked packages (install needs noarch type, depends...)."""
    from rattler import Gateway

    by_url = {p.url: p for p in packages}
    channels = sorted({p.url.rsplit("/", 2)[0] for p in packages})
    gateway = Gateway(cache_dir=cache.repodata)
    try:
        # the lock's platform is a conda subdir name (e.g. linux-64); rattler checks it
        subdirs: list[SubdirLiteral] = [cast("SubdirLiteral", platform), "noarch"]
        result = await gateway.query(channels, subdirs, [p.name for p in packages], recursive=False, channel_relations="disabled")
    except Exception as exc:
        raise BuildError(f"conda channel(s) {channels} cannot be reached to install the lock: {exc}") from None
    records: dict[str, RepoDataRecord] = {}
    for per_channel in result:
        for record in per_channel:
            if record.url in by_url:
                records[record.url] = record
    missing = [f"{p.name}={p.version}={p.build}" for p in packages if p.url not in records]
    if missing:
        raise BuildError(
            f"locked conda package(s) {missing} are no longer in their channel {channels}; re-lock (lock_mode='update', or pytest --modelarts-lock-mode=update)"
        )
    for url, pkg in by_url.items():
        rec = records[url]
        got_sha = rec.sha256.hex() if rec.sha256 else None
        got_md5 = rec.md5.hex() if rec.md5 else None
        if (pkg.sha256 and got_sha and pkg.sha256 != got_sha) or (pkg.md5 and got_md5 and pkg.md5 != got_md5):
            raise BuildError(
                f"hash mismatch for conda package {pkg.name}={pkg.version}={pkg.build}: the lock says "
                f"sha256 {pkg.sha256}, the channel now serves {got_sha} ({url})"
            )
    return [records[p.url] for p in packages]


def _install_conda(locked: LockedEnvironment, staging: Path, final: Path, cache: EnvCache, progress: Progress) -> str:
    import asyncio  # here: ~14 ms, which a pytest run whose environments are built need not pay at start-up

    import rattler
    from rattler import InstallerReporter, PackageCache

    class _Reporter(InstallerReporter):  # defined here, where rattler is imported (lazily: a slow import)
        """Counts downloads and links for the progress line (the protocol's other callbacks do nothing)."""

        def __init__(self) -> None:
            self.downloads = 0
            self.links = 0

        def on_download_start(self, cache_entry: int) -> int:
            self.downloads += 1
            return 0

        def on_link_start(self, operation: int, package_name: str) -> int:
            self.links += 1
            return 0

    packages = locked.conda
    with progress.step(f"fetching repodata of {len(packages)} conda package(s)"):
        records = asyncio.run(_records_for(packages, locked.platform, cache))
    # rattler's protocol gives every callback a no-op default (a docstring body), which mypy takes for abstract
    reporter = _Reporter()  # type: ignore[abstract]
    cache.pkgs.mkdir(parents=True, exist_ok=True)
    copies = rattler.Config()  # no hard, reflink or symbolic links into the package cache (see .integrity)
    for option in ("allow-hard-links", "allow-ref-links", "allow-symbolic-links"):
        copies.set(option, "false")
    with progress.step(f"installing {len(records)} conda package(s) with rattler"):
        try:
            asyncio.run(
                rattler.install(
                    records, target_prefix=staging, alternative_target_prefix=final,
                    package_cache=PackageCache(cache.pkgs), installed_packages=[], show_progress=False,
                    reporter=reporter, execute_link_scripts=False, config=copies,
                )
            )
        except Exception as exc:
            text = str(exc)
            hint = " (hash mismatch: the downloaded archive is not the one the lock names)" if "hash" in text.lower() else ""
            raise BuildError(f"installing conda packages {[p.name for p in packages]} failed{hint}: {text}") from None
    progress.info(f"conda: {reporter.downloads} package(s) fetched into the package cache, {reporter.links} linked")
    python = next((p for p in packages if p.name == "python"), None)
    if python is None or not (staging / "bin" / "python").exists():
        raise BuildError(f"the lock {locked.path} installs no bin/python; add python to conda_packages and re-lock")
    return f"conda python {python.version} ({python.url.rsplit('/', 1)[-1]})"


# --- local interpreter ---------------------------------------------------------------------------------------


def _uv_env() -> dict[str, str]:
    """uv sees what an installer may see (no cloud keys, no caller's virtualenv or PYTHONPATH): contract's rule."""
    return installer_environment(os.environ)


def _make_venv(locked: LockedEnvironment, staging: Path, progress: Progress) -> str:
    from uv import find_uv_bin

    from .interpreters import select_interpreter

    interp = select_interpreter(locked.python_spec, minor=locked.python_version)
    if interp.version.startswith("2."):
        return _link_python2(interp, staging, progress)
    with progress.step(f"creating a uv venv over {interp}"):  # the lock's line told why a local interpreter
        proc = subprocess.run(
            [find_uv_bin(), "venv", "--relocatable", "--no-project", "--no-config", "--quiet", "--allow-existing",
             "--python", str(interp.path), str(staging)],
            capture_output=True, text=True, env=_uv_env(), preexec_fn=die_with_parent,  # no orphan uv after a kill
        )
    if proc.returncode != 0:
        raise BuildError(f"uv venv with {interp} failed:\n{proc.stderr.strip()}")
    return f"local {interp}"


def _link_python2(interp: Interpreter, staging: Path, progress: Progress) -> str:
    """Python 2.7 (ModelArts' oldest engines), which uv makes no venv of: the prefix's ``bin/python`` is a link to
    the interpreter, which then runs as itself (its own prefix and site-packages; uv locks no pip packages for it)."""
    with progress.step(f"linking {interp} (Python 2: no venv)"):
        (staging / "bin").mkdir()
        for name in ("python", "python2", "python2.7"):
            (staging / "bin" / name).symlink_to(interp.path)
    return f"local {interp}"


# --- pip -----------------------------------------------------------------------------------------------------


def pip_requirements(packages: tuple[LockedPackage, ...]) -> str:
    """The lock's pip packages as a hash-pinned requirements file (``name @ url --hash=sha256:...``)."""
    return "".join(f"{p.name} @ {p.url} --hash=sha256:{p.sha256}\n" for p in packages)


def _install_pip(packages: tuple[LockedPackage, ...], prefix: Path, progress: Progress) -> None:
    from uv import find_uv_bin

    req = prefix / ".pytest-modelarts-pip-lock.txt"
    req.write_text(pip_requirements(packages))
    with progress.step(f"installing {len(packages)} pip package(s) with uv (hashes enforced)"):
        proc = subprocess.run(
            # copies: a link into uv's cache would make an edit of this environment's file an edit of the cache's,
            # and so of every environment built from it later
            [find_uv_bin(), "pip", "install", "--python", str(prefix / "bin" / "python"), "--no-deps", "--require-hashes",
             "--no-config", "--quiet", "--link-mode", "copy", "-r", str(req)],
            capture_output=True, text=True, env=_uv_env(), preexec_fn=die_with_parent,  # no orphan uv after a kill
        )
    if proc.returncode != 0:
        message = proc.stderr.strip()
        offending = [p.name for p in packages if p.name.lower() in message.lower()]
        hint = " (hash mismatch: the file downloaded is not the one the lock names)" if "hash" in message.lower() else ""
        raise BuildError(f"installing pip package(s) {offending or [p.name for p in packages]} failed{hint}:\n{message}")


def _compile_later(prefix: Path, interpreter: str) -> None:
    """The environment's bytecode, compiled by us beside its first job (see :mod:`.bytecode`): a linked Python 2
    has nothing in the prefix to compile."""
    if not interpreter.startswith("local cpython 2."):
        bytecode.compile_in_background(prefix, _uv_env())


def _fix_shebangs(staging: Path, final: Path) -> None:
    """Point console scripts written by uv into the staging prefix at the final prefix."""
    old, new = str(staging).encode(), str(final).encode()
    bindir = staging / "bin"
    for entry in bindir.iterdir() if bindir.is_dir() else ():
        if entry.is_symlink() or not entry.is_file():
            continue
        with open(entry, "rb") as f:
            head = f.read(2)
        if head != b"#!":
            continue
        data = entry.read_bytes()
        if old in data:
            atomic_write(entry, data.replace(old, new), mode=entry.stat().st_mode & 0o7777)


# --- all together --------------------------------------------------------------------------------------------


def ensure_environment(
    environment: Environment,
    *,
    cache_dir: os.PathLike[str] | str | None = None,
    lock_mode: LockMode | str = LockMode.CREATE,
    lock_path: os.PathLike[str] | str | None = None,
    python_source: PythonSource | str | None = None,
    progress: Progress | None = None,
    claims: LockClaims | None = None,
) -> BuiltEnvironment:
    """Lock ``environment`` (at ``lock_path``, default ``environment.default_lock_path()``), build it, return it.

    ``claims``: the session's record of which spec locked which file (two different environments of one name
    are refused, :class:`~pytest_modelarts.envs.lock.LockClaims`).
    """
    if environment.conda is None:
        raise BuildError(f"Environment {environment.name!r} has no conda dependencies: nothing to lock or build")
    path = Path(lock_path) if lock_path is not None else environment.default_lock_path()
    if claims is not None:
        claims.claim(path, environment.conda, environment.name)
    locked = lock_environment(environment.conda, path, lock_mode, cache_dir=cache_dir, python_source=python_source,
                              progress=progress)
    return build_environment(locked, cache_dir=cache_dir, name=environment.name, progress=progress)
