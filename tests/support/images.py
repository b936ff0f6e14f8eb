"""Docker images the tests build for themselves (there is no registry to pull from).

``python_image(client)`` builds ``pytest-modelarts-test/python:3.11``: ``FROM scratch`` with this machine's
Debian ``/usr/bin/python3.11`` (also as ``python3`` and ``python``), its standard library, the shared libraries
``ldd`` reports for the interpreter and its extension modules, ``/bin/sh`` (dash), and ``/etc/passwd`` entries
for root, ``ma-user`` (uid 1000, as in ModelArts images) and ``other`` (uid 4321). ``ma_user_image(client)``
is the same image with ``USER 1000:1000``. ``venv_image(client)`` adds a python of its own under ``/opt/venv/bin``
(a wrapper that marks what it ran) first on the image's ``PATH``, and a ``PYTHONPATH`` of its own: an image whose
interpreter is not ``/usr/bin/python``. ``pip_image(client)`` adds pip (the package of the interpreter running the
tests, copied into ``/usr/local/lib/python3.11/dist-packages``), as a preset image has it.

An image is built once and then reused by tag: it carries a label with a hash of what went into it (paths,
sizes and mtimes of the copied files, the Dockerfile), and is rebuilt only when that hash changes.
Needs the Debian packages ``python3.11`` and ``dash`` on the host (see docs/containers.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import filelock

PYTHON_TAG = "pytest-modelarts-test/python:3.11"
MA_USER_TAG = "pytest-modelarts-test/python:3.11-ma-user"
VENV_TAG = "pytest-modelarts-test/python:3.11-venv"
PIP_TAG = "pytest-modelarts-test/python:3.11-pip"
#: the venv image's PATH and PYTHONPATH, and the variable its python wrapper sets (also printed to stderr)
VENV_PATH = "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"
VENV_PYTHONPATH = "/opt/venv/lib/site"
VENV_MARKER = "VENV_PYTHON_RAN"
HASH_LABEL = "pytest-modelarts-test.content"
MA_USER_UID = 1000
OTHER_UID = 4321

PYTHON = Path("/usr/bin/python3.11")
STDLIB = Path("/usr/lib/python3.11")
SHELL = Path("/bin/dash")
_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "dist-packages"}

PASSWD = f"""root:x:0:0:root:/root:/bin/sh
ma-user:x:{MA_USER_UID}:{MA_USER_UID}:ma-user:/home/ma-user:/bin/sh
other:x:{OTHER_UID}:{OTHER_UID}:other:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
"""
GROUP = f"root:x:0:\nma-user:x:{MA_USER_UID}:\nother:x:{OTHER_UID}:\nnogroup:x:65534:\n"
DOCKERFILE = "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8\n"


class ImageUnavailable(RuntimeError):
    """The host lacks what the test image is made of."""


def _shared_libraries(binaries: list[Path]) -> set[Path]:
    libs: set[Path] = set()
    for chunk in range(0, len(binaries), 50):
        out = subprocess.run(["ldd", *map(str, binaries[chunk:chunk + 50])], capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if m:
                libs.add(Path(m.group(1)))
    return libs


def _sources() -> list[tuple[Path, Path]]:
    """(host file, path in the image) for every file of the python image."""
    for required in (PYTHON, STDLIB, SHELL):
        if not required.exists():
            raise ImageUnavailable(f"{required} is missing: install the Debian packages python3.11 and dash")
    files: list[tuple[Path, Path]] = [(PYTHON, PYTHON), (SHELL, Path("/bin/sh"))]
    for base, dirs, names in os.walk(STDLIB):
        if Path(base) == STDLIB:
            dirs[:] = [d for d in dirs if d not in _SKIP_STDLIB]
        dirs.sort()
        for name in sorted(names):
            path = Path(base) / name
            if path.is_file():
                files.append((path, path))
    extensions = [p for p, _ in files if p.suffix == ".so"]
    for lib in sorted(_shared_libraries([PYTHON, SHELL, *extensions])):
        files.append((lib.resolve(), lib))
        if lib.resolve() != lib:
            files.append((lib.resolve(), lib.resolve()))
    return files


def _content_hash(files: list[tuple[Path, Path]], dockerfile: str) -> str:
    h = hashlib.sha256(dockerfile.encode() + PASSWD.encode() + GROUP.encode())
    for src, dst in files:
        st = src.stat()
        h.update(f"{src}>{dst}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def _existing(client, tag: str, digest: str) -> bool:  # type: ignore[no-untyped-def]
    import docker.errors

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return (image.labels or {}).get(HASH_LABEL) == digest


def _build(client, tag: str, context: Path, digest: str) -> None:  # type: ignore[no-untyped-def]
    client.images.build(path=str(context), tag=tag, labels={HASH_LABEL: digest}, rm=True, forcerm=True)


def _lock() -> filelock.FileLock:
    return filelock.FileLock(os.path.join(tempfile.gettempdir(), "pytest-modelarts-test-images.lock"))


def python_image(client) -> str:  # type: ignore[no-untyped-def]
    """Build (or reuse) the scratch python image; return its tag."""
    files = _sources()
    digest = _content_hash(files, DOCKERFILE)
    with _lock():
        if _existing(client, PYTHON_TAG, digest):
            return PYTHON_TAG
        with tempfile.TemporaryDirectory(prefix="pytest-modelarts-image-") as tmp:
            root = Path(tmp) / "rootfs"
            for src, dst in files:
                target = root / dst.relative_to("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    try:
                        os.link(src, target)
                    except OSError:
                        shutil.copy2(src, target)
            for link in ("python3", "python"):
                (root / "usr/bin" / link).symlink_to("python3.11")
            (root / "etc").mkdir(exist_ok=True)
            (root / "etc/passwd").write_text(PASSWD)
            (root / "etc/group").write_text(GROUP)
            (root / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
            (root / "tmp").mkdir(mode=0o1777)
            os.chmod(root / "tmp", 0o1777)
            home = root / "home/ma-user"
            home.mkdir(parents=True)
            os.chown(home, MA_USER_UID, MA_USER_UID) if os.geteuid() == 0 else None
            (Path(tmp) / "Dockerfile").write_text(DOCKERFILE)
            _build(client, PYTHON_TAG, Path(tmp), digest)
    return PYTHON_TAG


def ma_user_image(client) -> str:  # type: ignore[no-untyped-def]
    """The python image running as ma-user (uid 1000), as ModelArts images do."""
    return _derived(client, MA_USER_TAG, f"FROM {PYTHON_TAG}\nUSER {MA_USER_UID}:{MA_USER_UID}\n", {}, {})


def _derived(client, tag: str, dockerfile: str, texts: dict[str, str], trees: dict[str, Path]) -> str:  # type: ignore[no-untyped-def]
    """Build (or reuse) ``tag`` from the python image: ``texts`` (context path: contents, executable when it
    starts with ``#!``) and ``trees`` (context path: host directory) make its build context."""
    base = client.images.get(python_image(client))
    h = hashlib.sha256((base.id + dockerfile).encode())
    for name, text in sorted(texts.items()):
        h.update(f"{name}\0{text}\0".encode())
    for name, tree in sorted(trees.items()):
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                st = path.stat()
                h.update(f"{name}/{path.relative_to(tree)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    digest = h.hexdigest()[:32]
    with _lock():
        if not _existing(client, tag, digest):
            with tempfile.TemporaryDirectory(prefix="pytest-modelarts-image-") as tmp:
                (Path(tmp) / "Dockerfile").write_text(dockerfile)
                for name, text in texts.items():
                    target = Path(tmp) / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text)
                    target.chmod(0o755 if text.startswith("#!") else 0o644)
                for name, tree in trees.items():
                    shutil.copytree(tree, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
                _build(client, tag, Path(tmp), digest)
    return tag


def venv_image(client) -> str:  # type: ignore[no-untyped-def]
    """The python image with ``/opt/venv/bin/python`` (a wrapper of /usr/bin/python3.11 that sets and prints
    :data:`VENV_MARKER`) first on ``PATH``, and ``PYTHONPATH=/opt/venv/lib/site`` holding a module ``venvmark``."""
    wrapper = f'#!/bin/sh\necho "{VENV_MARKER}: /opt/venv/bin/python" >&2\nexport {VENV_MARKER}=1\nexec /usr/bin/python3.11 "$@"\n'
    dockerfile = (f"FROM {PYTHON_TAG}\nCOPY venv/ /opt/venv/\n"
                  f"ENV PATH={VENV_PATH} PYTHONPATH={VENV_PYTHONPATH}\n")
    return _derived(client, VENV_TAG, dockerfile,
                    {"venv/bin/python": wrapper, "venv/lib/site/venvmark.py": 'WHERE = "the image\'s PYTHONPATH"\n'}, {})


def pip_image(client) -> str:  # type: ignore[no-untyped-def]
    """The python image with pip, as preset images have it: the package of the interpreter running the tests."""
    import importlib.util

    spec = importlib.util.find_spec("pip")
    if spec is None or spec.origin is None:
        raise ImageUnavailable("pip is not installed for the interpreter running the tests: it is copied into the test image")
    dockerfile = f"FROM {PYTHON_TAG}\nCOPY pip/ /usr/local/lib/python3.11/dist-packages/pip/\n"
    return _derived(client, PIP_TAG, dockerfile, {}, {"pip": Path(spec.origin).parent})
