"""Local interpreters that may serve an environment whose conda packages pin only ``python`` (the fast path).

Discovery reads where interpreters live and runs no launcher: candidates are ``$PYTEST_MODELARTS_PYTHONS``
(``os.pathsep``-separated interpreters, tried first), the current interpreter and its base, ``python3.N`` /
``python3`` / ``python2.7`` / ``python2`` / ``python`` in the ``PATH`` entries (2.7: the Python of ModelArts' oldest
engines), pyenv's and uv's managed installations
(``$PYENV_ROOT/versions/*``, ``$UV_PYTHON_INSTALL_DIR`` or uv's data dir, under ``$HOME`` and the account's home) and conda environments
(``$CONDA_PREFIX``, ``~/.conda/environments.txt``). A candidate counts only when it is an executable binary once
its links are resolved: a shim (pyenv's, asdf's: a script that picks a version when run) is never executed
(what ``$PYTEST_MODELARTS_PYTHONS`` lists is asked whatever it is: the user chose it).

Each interpreter is asked its version once: answers are kept in ``interpreters-2.json`` of the cache directory,
keyed by the binary's real path, its mtime and size, so a later run stats files and runs nothing. The question is
asked in the syntax and with the options every CPython since 2.7 has (``-E -s``, ``platform``); an interpreter that
did not answer in time is asked again next time (a loaded machine is no reason to lose it for good).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.oskit import atomic_write
from ..errors import BuildError
from .cache import default_cache_dir

_QUERY = "import platform; print(platform.python_version()); print(platform.python_implementation().lower())"
_NAME = re.compile(r"python(3(\.\d+)?|2(\.7)?)?")
_BINARY_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")  # ELF, Mach-O
_CACHE_FILE = "interpreters-2.json"  # 2: the answers of the query above (the first one's left 2.7 unanswered)


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # "3.11.2"
    implementation: str

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    def __str__(self) -> str:
        return f"{self.implementation} {self.version} at {self.path}"


def _name_order(name: str) -> tuple[int, int]:
    """python3.13 before python3.12 ... before python3, then python2.7, python2, python."""
    minor = name[len("python3."):] if name.startswith("python3.") else ""
    if minor.isdigit():
        return (0, -int(minor))
    return (1, ["python3", "python2.7", "python2"].index(name) if name != "python" else 3)


def _pythons_in(directory: Path) -> list[Path]:
    try:
        names = [e.name for e in os.scandir(directory) if _NAME.fullmatch(e.name)]
    except OSError:
        return []
    return [directory / n for n in sorted(names, key=_name_order)]


def _conda_prefixes() -> list[Path]:
    prefixes = [Path(p) for p in (os.environ.get("CONDA_PREFIX"),) if p]
    try:
        listed = (Path.home() / ".conda" / "environments.txt").read_text().split()
    except OSError:
        listed = []
    return prefixes + [Path(p) for p in listed]


def _account_home() -> Path:
    """The home of the account this process runs as (its passwd entry), whatever $HOME says."""
    import pwd

    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        return Path.home()


def _managed_dirs() -> list[Path]:
    """bin directories of pyenv's and uv's installations and of conda environments."""
    # the account's home too: $HOME may be another folder (a test's, a tool's) while the installations stay put
    homes = dict.fromkeys([Path.home(), _account_home()])
    pyenv = [Path(os.environ["PYENV_ROOT"]) / "versions"] if os.environ.get("PYENV_ROOT") else []
    pyenv += [home / ".pyenv" / "versions" for home in homes]
    data = [Path(os.environ["XDG_DATA_HOME"])] if os.environ.get("XDG_DATA_HOME") else []
    data += [home / ".local" / "share" for home in homes]
    uv = [Path(os.environ["UV_PYTHON_INSTALL_DIR"])] if os.environ.get("UV_PYTHON_INSTALL_DIR") else []
    uv += [folder / "uv" / "python" for folder in data]
    dirs: list[Path] = []
    for root in dict.fromkeys([*pyenv, *uv]):
        try:
            # newest first by version: pyenv names them 3.11.7, uv cpython-3.11.7-linux-x86_64-gnu
            versions = sorted(os.scandir(root), key=lambda e: [int(x) for x in re.findall(r"\d+", e.name)[:3]], reverse=True)
        except OSError:
            continue
        dirs += [Path(e.path) / "bin" for e in versions]
    return dirs + [p / "bin" for p in _conda_prefixes()]


def _candidates() -> Iterator[Path]:
    extra = os.environ.get("PYTEST_MODELARTS_PYTHONS", "")
    yield from (Path(p) for p in extra.split(os.pathsep) if p)
    base = getattr(sys, "_base_executable", None)
    yield from (Path(p) for p in (base, sys.executable) if p)
    path_dirs = [Path(p) for p in os.environ.get("PATH", os.defpath).split(os.pathsep) if p]
    # by name first (python3.13 anywhere on PATH before python3), PATH order within a name, as `which` would
    on_path = [(d, p) for i, d in enumerate(path_dirs) for p in _pythons_in(d)]
    yield from (p for _, p in sorted(on_path, key=lambda dp: (_name_order(dp[1].name), path_dirs.index(dp[0]))))
    for d in _managed_dirs():
        yield from _pythons_in(d)


def _binary(path: Path, *, listed: frozenset[Path] = frozenset()) -> Path | None:
    """The real file behind ``path`` when it is an executable binary (not a script: a shim is never run), or
    any executable the user listed in ``$PYTEST_MODELARTS_PYTHONS`` (``listed``): asking it is what they asked."""
    try:
        real = path.resolve(strict=True)
        if not real.is_file() or not os.access(real, os.X_OK):
            return None
        if path in listed:
            return real
        with open(real, "rb") as f:
            return real if f.read(4) in _BINARY_MAGIC else None
    except OSError:
        return None


class _Answers:
    """Interpreters' answers, by real path, valid while the binary's mtime and size are the same."""

    def __init__(self) -> None:
        self.file = default_cache_dir() / _CACHE_FILE
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            data = {}
        self.data: dict[str, list[object]] = data if isinstance(data, dict) else {}
        self.dirty = False

    def get(self, real: Path) -> Interpreter | None:
        try:
            st = real.stat()
        except OSError:
            return None
        stamp = [st.st_mtime_ns, st.st_size]
        cached = self.data.get(str(real))
        if isinstance(cached, list) and len(cached) == 4 and cached[:2] == stamp:
            version, impl = cached[2], cached[3]
        else:
            version, impl = _ask(real)
            if version is None:  # no answer in time: not kept, asked again next time
                return None
            self.data[str(real)] = [*stamp, version, impl]
            self.dirty = True
        return Interpreter(real, str(version), str(impl)) if version else None

    def save(self) -> None:
        if self.dirty:
            try:
                self.file.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.file, json.dumps(self.data, indent=1, sort_keys=True), mode=0o644)
            except OSError:
                pass  # a read-only cache: ask again next time
            self.dirty = False


def _ask(real: Path) -> tuple[str | None, str]:
    """(version, implementation) of the interpreter at ``real``; ("", "") when it fails to answer, (None, "") when
    it did not answer in time."""
    try:
        out = subprocess.run([str(real), "-E", "-s", "-c", _QUERY], capture_output=True, text=True, timeout=20, check=True)
    except subprocess.TimeoutExpired:
        return None, ""
    except (OSError, subprocess.SubprocessError):
        return "", ""
    lines = out.stdout.split()
    return (lines[0], lines[1]) if len(lines) >= 2 else ("", "")


def _interpreters(answers: _Answers) -> Iterator[Interpreter]:
    """Every distinct CPython found, in the order of :func:`_candidates`, asked lazily."""
    seen: set[tuple[int, int]] = set()  # a file's identity: hard links of one binary are one interpreter
    listed = frozenset(Path(p) for p in os.environ.get("PYTEST_MODELARTS_PYTHONS", "").split(os.pathsep) if p)
    for path in _candidates():
        real = _binary(path, listed=listed)
        if real is None:
            continue
        try:
            st = real.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        interp = answers.get(real)
        if interp is not None and interp.implementation == "cpython":
            yield interp


def find_interpreters() -> list[Interpreter]:
    """Every distinct CPython found, in the order of :func:`_candidates`."""
    answers = _Answers()
    try:
        return list(_interpreters(answers))
    finally:
        answers.save()


def satisfies(python_spec: str) -> Callable[[Interpreter], bool]:
    """Whether an interpreter's version satisfies the conda version spec (``"3.11.*"``; ``""`` or ``"*"``: any)."""
    from rattler import Version, VersionSpec

    spec = VersionSpec(python_spec) if python_spec not in ("", "*") else None
    return lambda interp: spec is None or spec.matches(Version(interp.version))


def select_interpreter(python_spec: str, *, minor: str | None = None) -> Interpreter:
    """The first local CPython whose version satisfies the conda version spec (``"3.11.*"``, ``"==3.6.2"``, ``"*"``).

    ``minor`` ("3.11") additionally requires that minor version (the one the lock's pip packages were resolved
    for). Interpreters are asked only until one fits. Raises :class:`BuildError` listing what was found and how
    to provide an interpreter.
    """
    fits = satisfies(python_spec)
    answers = _Answers()
    try:
        for interp in _interpreters(answers):
            if not fits(interp):
                continue
            if minor is not None and interp.minor != minor:
                continue
            return interp
    finally:
        answers.save()
    found = find_interpreters()
    wanted = f"python {python_spec}" + (f" (Python {minor}, as the lock was resolved for)" if minor else "")
    listing = "\n".join(f"  - {i}" for i in found) or "  (none)"
    raise BuildError(
        f"no local interpreter satisfies {wanted}; interpreters found:\n{listing}\n"
        "Provide one: install it (e.g. `uv python install <version>` or your OS package) and put it on PATH, or "
        "list it in PYTEST_MODELARTS_PYTHONS, or take python from a conda channel instead "
        "(PYTEST_MODELARTS_PYTHON=conda, the default)."
    )
