"""Solving an environment into a ``conda-lock.yml``: conda packages with py-rattler, pip packages with uv.

The result is written with conda-lock's own lock-file models (format version 1, as ``conda-lock lock`` writes it),
atomically; what conda-lock's format has no field for goes into ``metadata.custom_metadata`` (see :mod:`.lockfile`).
"""

from __future__ import annotations

import json
import os
import platform as _platform
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..core.contract import installer_environment
from ..core.environment import CondaDependencies
from ..core.oskit import atomic_write
from ..errors import LockError
from .cache import EnvCache
from .lockfile import (
    DEFAULT_CHANNELS,
    META,
    LockedEnvironment,
    _import_conda_lock,
    _spec_name,
    content_hash,
    current_platform,
    python_version_spec,
    read_lock,
    spec_hash,
)
from .progress import Progress

if TYPE_CHECKING:  # these are imported lazily, where they are used (slow imports)
    from conda_lock.lockfile.v2prelim.models import LockedDependency  # untyped package: Any to mypy
    from packaging.tags import Tag
    from rattler import RepoDataRecord
    from rattler.platform import SubdirLiteral


def _split_dep(dep: str) -> tuple[str, str]:
    name, _, rest = dep.strip().partition(" ")
    return name, rest.strip() or "*"


async def _solve_conda(channels: Sequence[str], specs: Sequence[str], platform: str, cache: EnvCache) -> list[RepoDataRecord]:
    import rattler
    from rattler import Gateway, VirtualPackage
    from rattler.exceptions import GatewayError, SolverError

    for item in specs:
        try:
            rattler.MatchSpec(item)
        except Exception as exc:
            raise LockError(f"conda package spec {item!r} is invalid: {exc}") from None
    gateway = Gateway(cache_dir=cache.repodata)
    subdirs: list[SubdirLiteral] = [cast("SubdirLiteral", platform), "noarch"]  # platform: a conda subdir name; rattler checks it
    try:
        return await rattler.solve(
            sources=list(channels), specs=list(specs), gateway=gateway, platforms=subdirs,
            virtual_packages=VirtualPackage.detect(), channel_relations="disabled",
        )
    except SolverError as exc:
        raise LockError(
            f"conda packages {list(specs)} cannot be solved from channels {list(channels)} for {platform}:\n{exc}"
        ) from None
    except Exception as exc:  # GatewayError, FetchRepoDataError, ... : a channel that cannot be read
        kind = "cannot be reached" if not isinstance(exc, (GatewayError,)) else "cannot be read"
        raise _ChannelError(f"a conda channel of {list(channels)} {kind}: {exc}") from None


class _ChannelError(LockError):
    """A channel could not be read (as opposed to packages that cannot be solved from it)."""


def _local_python_hint(spec: CondaDependencies, python_spec: str) -> str:
    """When conda is asked for python alone, that a local interpreter can serve it instead, and which ones do."""
    from .interpreters import find_interpreters, satisfies

    if any(_spec_name(s) != "python" for s in spec.conda_packages):
        return ""  # other conda packages need a channel whatever python comes from
    found = find_interpreters()
    fits = list(filter(satisfies(python_spec), found))
    how = ("PYTEST_MODELARTS_PYTHON=local, Session(python_source='local') or pytest "
           "--modelarts-python-source=local")
    if fits:
        listing = "\n".join(f"  - {i}" for i in fits)
        return (f"\nThis environment needs only python {python_spec} from conda, and a local interpreter can serve it "
                f"({how}); local interpreters that satisfy it:\n{listing}")
    listing = "\n".join(f"  - {i}" for i in found) or "  (none)"
    return (f"\nThis environment needs only python {python_spec} from conda, which a local interpreter could serve "
            f"({how}), but none found satisfies it; interpreters found:\n{listing}")


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


def _wheel_rank(python_version: str) -> dict[Tag, int]:
    from packaging.tags import compatible_tags, cpython_tags, platform_tags

    major, minor = (int(x) for x in python_version.split(".")[:2])
    platforms = list(platform_tags())
    tags = list(cpython_tags((major, minor), platforms=platforms)) + list(compatible_tags((major, minor), f"cp{major}{minor}", platforms))
    return {tag: i for i, tag in enumerate(tags)}


def _pip_graph(args: list[str], pip_packages: Sequence[str]) -> dict[str, set[str]]:
    """Which resolved pip package needs which (parent -> children, canonical names), from the same resolution in
    uv's annotated requirements format (``idna==3.7  # via requests``; uv's cache answers it): recorded in the lock,
    so that a package that follows from none of the spec's is found (lockfile.unreached)."""
    from packaging.utils import canonicalize_name

    graph_args = [a if a != "pylock.toml" else "requirements.txt" for a in args] + ["--annotation-style", "line"]
    proc = subprocess.run(graph_args, input="\n".join(pip_packages) + "\n", capture_output=True, text=True,
                          env=installer_environment(os.environ))
    if proc.returncode != 0:
        raise LockError(f"the dependencies of pip packages {list(pip_packages)} cannot be listed:\n{proc.stderr.strip()}")
    graph: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        requirement, _, note = line.partition("#")
        name = re.split(r"[=<>!~@\[; ]", requirement.strip(), maxsplit=1)[0]
        if not name or not note.strip().startswith("via"):
            continue
        for parent in note.strip()[3:].split(","):
            parent = parent.strip()
            if parent and not parent.startswith("-"):  # "-r -": the spec itself
                graph.setdefault(canonicalize_name(parent), set()).add(canonicalize_name(name))
    return graph


def _resolve_pip(pip_packages: Sequence[str], python_version: str, platform: str, progress: Progress) -> list[LockedDependency]:
    """uv pip compile -> locked pip packages (one artifact each: the best wheel for this machine, else the sdist).

    ``python_version`` is the interpreter's full version ("3.7.16"): uv takes "3.7" for 3.7.0, and a package that
    needs 3.7.1 (pandas 1.3.5) would not resolve for a 3.7.16 that can install it."""
    _import_conda_lock()
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from uv import find_uv_bin

    args = [
        find_uv_bin(), "pip", "compile", "-", "--format", "pylock.toml", "--no-header", "--quiet",
        "--python-version", python_version, "--python-platform", _python_platform(platform),
    ]
    proc = subprocess.run(args, input="\n".join(pip_packages) + "\n", capture_output=True, text=True,
                          env=installer_environment(os.environ))
    if proc.returncode != 0:
        message = proc.stderr.strip()
        offending = [p for p in pip_packages if re.split(r"[\s=<>!~\[;@]", p, maxsplit=1)[0].lower() in message.lower()]
        what = f"pip package(s) {offending}" if offending else f"pip packages {list(pip_packages)}"
        flat = " ".join(message.split())  # uv wraps its messages to the terminal width
        hint = " (unknown to the package index)" if "not found in the package registry" in flat else ""
        raise LockError(f"{what}{hint} cannot be resolved for Python {python_version} on {platform}:\n{message}")
    data = tomllib.loads(proc.stdout)
    graph = _pip_graph(args, pip_packages)
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
                name=pkg["name"], version=str(pkg["version"]), manager="pip", platform=platform,
                dependencies={child: "*" for child in sorted(graph.get(canonicalize_name(pkg["name"]), ()))},
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
    import asyncio  # here, only to solve: ~14 ms, which a pytest run whose locks are up to date need not pay

    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta
    from conda_lock.models.channel import Channel

    progress = progress or Progress()
    platform = platform or current_platform()
    python_spec = python_version_spec(spec)
    channels = list(spec.channels) or (list(DEFAULT_CHANNELS) if python_source == "conda" else [])
    packages: list[LockedDependency] = []
    if python_source == "conda":
        specs = list(spec.conda_packages)
        if not any(_spec_name(s) == "python" for s in specs):
            specs.append("python")  # the boot file needs an interpreter
        with progress.step(f"solving conda packages {specs}"):
            try:
                records = asyncio.run(_solve_conda(channels, specs, platform, cache))
            except _ChannelError as exc:
                raise LockError(f"{exc}{_local_python_hint(spec, python_spec)}") from None
        python_version = None
        for r in records:
            name = r.name.normalized
            if name == "python":
                python_full = str(r.version)
                python_version = ".".join(python_full.split(".")[:2])
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
        python_version, python_full = interp.minor, interp.version
        progress.info(f"python from a local interpreter (explicit choice: python_source=local): {interp}")
    if spec.pip_packages and python_full.startswith("2."):
        raise LockError(f"pip packages {list(spec.pip_packages)} cannot be locked for Python {python_full}: uv resolves for "
                        "Python 3.6 and later only; list them in the code directory's requirements.txt instead, which "
                        "the job's own pip installs before the boot file, as a Python 2.7 image does")
    if spec.pip_packages:
        with progress.step(f"resolving pip packages {list(spec.pip_packages)} for Python {python_full}"):
            packages += _resolve_pip(spec.pip_packages, python_full, platform, progress)
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
            **({META + "pip-graph": "true"} if spec.pip_packages else {}),
        },
    )
    lockfile = Lockfile(package=packages, metadata=meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lock-", dir=path.parent) as tmpdir:
        tmp = Path(tmpdir) / path.name  # conda-lock writes the file's name into its help text
        write_conda_lock_file(lockfile, tmp, metadata_choices=None, include_help_text=True)
        atomic_write(path, tmp.read_bytes(), mode=0o644)
    locked = read_lock(path)
    assert locked is not None
    _seal(path, locked)
    locked = read_lock(path)
    assert locked is not None
    return replace(locked, written=True)


def _seal(path: Path, locked: LockedEnvironment) -> None:
    """Add the content hash of what was just written (lockfile.content_hash) to its custom metadata."""
    text = path.read_text()
    anchor = f"    {META}python-version:"
    assert anchor in text, "conda-lock's writer changed its layout"
    sealed = text.replace(anchor, f"    {META}content-hash: {content_hash(locked)}\n{anchor}", 1)
    atomic_write(path, sealed.encode(), mode=0o644)
