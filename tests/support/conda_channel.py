"""A local ``file://`` conda channel for tests, built once per machine and cached by content.

Packages are made with :mod:`tarfile` (``.tar.bz2``: ``info/index.json``, ``info/paths.json`` and the files) and
the channel is indexed with py-rattler's ``index_fs``. Besides tiny ``noarch`` packages, the channel holds a
genuine ``python 3.11`` package made from Debian's ``/usr/bin/python3.11`` and ``/usr/lib/python3.11``: the
binary finds its standard library relative to itself, so the copy is relocatable. Debian's interpreter looks
for packages in ``dist-packages``; a ``sitecustomize.py`` adds the conda layout's ``lib/python3.11/site-packages``
(where rattler links ``noarch: python`` packages), which is what a conda-forge python does natively.

Fixtures (pulled in by ``tests/conftest.py``):

``conda_channel``
    session-scoped :class:`LocalChannel` (skips when ``/usr/bin/python3.11`` is missing, fails when CI requires it; CI installs it with
    ``apt-get install -y python3.11``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.requirements import missing

DEBIAN_PYTHON = Path("/usr/bin/python3.11")
DEBIAN_STDLIB = Path("/usr/lib/python3.11")
#: bump when the packages below change, so that cached channels are rebuilt.
FIXTURE_VERSION = "3"
#: parts of Debian's stdlib a conda python does not have (or that would make it "externally managed").
_STDLIB_EXCLUDE = {"config-3.11-x86_64-linux-gnu", "test", "EXTERNALLY-MANAGED", "sitecustomize.py", "__pycache__"}

_SITECUSTOMIZE = b'''\
# Added by the pytest-modelarts test channel: make the conda layout's site-packages importable.
import os, site, sys
site.addsitedir(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
'''


@dataclass(frozen=True)
class LocalChannel:
    """A built channel: its directory, its ``file://`` URL and the version of its python package."""

    path: Path
    python_version: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


def _tarinfo(name: str, size: int, mode: int = 0o644, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.type = kind
    info.linkname = link
    info.mtime = 1_700_000_000  # reproducible archives
    return info


def make_package(
    subdir_dir: Path,
    name: str,
    version: str,
    *,
    build: str = "0",
    build_number: int = 0,
    depends: tuple[str, ...] = (),
    files: dict[str, bytes] | None = None,
    executables: tuple[str, ...] = (),
    symlinks: dict[str, str] | None = None,
    tree: tuple[Path, str] | None = None,
    noarch: str | None = "generic",
    subdir: str = "noarch",
    compresslevel: int = 9,
) -> Path:
    """Write ``<name>-<version>-<build>.tar.bz2`` into ``subdir_dir``.

    ``files`` maps prefix-relative paths to contents; ``symlinks`` maps paths to link targets; ``tree`` is a
    (directory, prefix-relative destination) copied file by file.
    """
    files = dict(files or {})
    symlinks = dict(symlinks or {})
    entries: list[tuple[str, Path | bytes, int]] = [(p, data, 0o755 if p in executables else 0o644) for p, data in files.items()]
    if tree is not None:
        source, dest = tree
        for root, dirs, names in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in _STDLIB_EXCLUDE)
            for fname in sorted(names):
                if fname in _STDLIB_EXCLUDE:
                    continue
                full = Path(root, fname)
                rel = f"{dest}/{full.relative_to(source).as_posix()}"
                if full.is_symlink():
                    symlinks[rel] = os.readlink(full)
                elif full.is_file():
                    entries.append((rel, full, full.stat().st_mode & 0o777))
    paths = []
    for rel, data, _mode in entries:
        raw = data.read_bytes() if isinstance(data, Path) else data
        paths.append({"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(raw).hexdigest(), "size_in_bytes": len(raw)})
    for rel in symlinks:
        paths.append({"_path": rel, "path_type": "softlink"})
    paths.sort(key=lambda p: p["_path"])
    index: dict[str, object] = {
        "name": name, "version": version, "build": build, "build_number": build_number,
        "depends": list(depends), "license": "MIT", "subdir": subdir, "timestamp": 1_700_000_000_000,
    }
    if noarch:
        index["noarch"] = noarch
    else:
        index.update(arch="x86_64", platform="linux")
    subdir_dir.mkdir(parents=True, exist_ok=True)
    target = subdir_dir / f"{name}-{version}-{build}.tar.bz2"
    with tarfile.open(target, "w:bz2", compresslevel=compresslevel) as tar:
        for meta_name, meta in (("info/index.json", index), ("info/paths.json", {"paths": paths, "paths_version": 1})):
            raw = json.dumps(meta, indent=2, sort_keys=True).encode()
            tar.addfile(_tarinfo(meta_name, len(raw)), io.BytesIO(raw))
        for rel, data, mode in sorted(entries, key=lambda e: e[0]):
            raw = data.read_bytes() if isinstance(data, Path) else data
            tar.addfile(_tarinfo(rel, len(raw), mode), io.BytesIO(raw))
        for rel, link in sorted(symlinks.items()):
            tar.addfile(_tarinfo(rel, 0, 0o777, tarfile.SYMTYPE, link))
    return target


def debian_python_version() -> str | None:
    if not DEBIAN_PYTHON.exists() or not DEBIAN_STDLIB.is_dir():
        return None
    out = subprocess.run([str(DEBIAN_PYTHON), "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _populate(channel: Path, python_version: str) -> None:
    linux = channel / "linux-64"
    noarch = channel / "noarch"
    make_package(
        linux, "python", python_version, build="0_debian", noarch=None, subdir="linux-64", compresslevel=1,
        files={"bin/python3.11": DEBIAN_PYTHON.read_bytes(), "lib/python3.11/sitecustomize.py": _SITECUSTOMIZE},
        executables=("bin/python3.11",), symlinks={"bin/python": "python3.11", "bin/python3": "python3.11"},
        tree=(DEBIAN_STDLIB, "lib/python3.11"),
    )
    for version in ("1.0", "1.1"):
        make_package(noarch, "mini-lib", version, files={"share/mini-lib/VERSION": version.encode() + b"\n"})
    make_package(
        noarch, "mini-tool", "0.1", depends=("mini-lib >=1.0",),
        files={"bin/mini-tool": b"#!/bin/sh\necho mini-tool 0.1\n"}, executables=("bin/mini-tool",),
    )
    make_package(
        noarch, "minipy", "2.0", build="py_0", noarch="python", depends=("python >=3.8", "mini-lib"),
        files={"site-packages/minipy/__init__.py": b"VERSION = '2.0'\n"},
    )
    (channel / "linux-64").mkdir(exist_ok=True)
    from rattler.index import index_fs

    asyncio.run(index_fs(channel, write_zst=False, write_shards=False))


def build_channel(root: Path | None = None) -> LocalChannel:
    """Build (or reuse) the test channel under ``root`` (default: a fixed directory in the temp dir)."""
    import filelock

    python_version = debian_python_version()
    if python_version is None:
        raise FileNotFoundError(str(DEBIAN_PYTHON))
    stat = DEBIAN_PYTHON.stat()
    key = hashlib.sha256(f"{FIXTURE_VERSION}|{python_version}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    root = root or Path(tempfile.gettempdir()) / "pytest-modelarts-fixtures"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"channel-{key}"
    with filelock.FileLock(str(root / f"channel-{key}.lock")):
        if not (final / "noarch" / "repodata.json").exists():
            staging = Path(tempfile.mkdtemp(prefix=f"channel-{key}-", dir=root))
            try:
                _populate(staging, python_version)
                if final.exists():
                    shutil.rmtree(final)
                os.rename(staging, final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return LocalChannel(final, python_version)


@pytest.fixture(scope="session")
def conda_channel() -> LocalChannel:
    """The local test channel (python 3.11 from Debian, mini-lib 1.0/1.1, mini-tool, minipy)."""
    if debian_python_version() is None:
        missing("debian-python", f"{DEBIAN_PYTHON} is missing: install Debian's python3.11 (apt-get install -y python3.11)")
    return build_channel()
