"""Local interpreters that may serve an environment whose conda packages pin only ``python`` (the fast path).

Candidates: ``$PYTEST_MODELARTS_PYTHONS`` (``os.pathsep``-separated interpreters, tried first), the current
interpreter and its base, and ``python3.N`` / ``python3`` / ``python`` on ``PATH``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError

_QUERY = "import sys, platform; print(platform.python_version()); print(sys.implementation.name)"


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


def _candidates() -> list[Path]:
    names: list[Path] = []
    extra = os.environ.get("PYTEST_MODELARTS_PYTHONS", "")
    names += [Path(p) for p in extra.split(os.pathsep) if p]
    base = getattr(sys, "_base_executable", None)
    names += [Path(p) for p in (base, sys.executable) if p]
    for name in [f"python3.{minor}" for minor in range(20, 5, -1)] + ["python3", "python"]:
        found = shutil.which(name)
        if found:
            names.append(Path(found))
    return names


@functools.cache
def _query(path: Path) -> Interpreter | None:
    try:
        out = subprocess.run([str(path), "-I", "-c", _QUERY], capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split()
    return Interpreter(path, lines[0], lines[1]) if len(lines) >= 2 else None


def find_interpreters() -> list[Interpreter]:
    """Every distinct CPython found, in the order of :func:`_candidates`."""
    seen: set[Path] = set()
    found: list[Interpreter] = []
    for path in _candidates():
        try:
            real = path.resolve(strict=True)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        interp = _query(path)
        if interp is not None and interp.implementation == "cpython":
            found.append(interp)
    return found


def select_interpreter(python_spec: str, *, minor: str | None = None) -> Interpreter:
    """The first local CPython whose version satisfies the conda version spec (``"3.11.*"``, ``"==3.6.2"``, ``"*"``).

    ``minor`` ("3.11") additionally requires that minor version (the one the lock's pip packages were resolved
    for). Raises :class:`BuildError` listing what was found and how to provide an interpreter.
    """
    from rattler import Version, VersionSpec

    spec = VersionSpec(python_spec) if python_spec not in ("", "*") else None
    found = find_interpreters()
    for interp in found:
        if spec is not None and not spec.matches(Version(interp.version)):
            continue
        if minor is not None and interp.minor != minor:
            continue
        return interp
    wanted = f"python {python_spec}" + (f" (Python {minor}, as the lock was resolved for)" if minor else "")
    listing = "\n".join(f"  - {i}" for i in found) or "  (none)"
    raise BuildError(
        f"no local interpreter satisfies {wanted}; interpreters found:\n{listing}\n"
        "Provide one: install it (e.g. `uv python install <version>` or your OS package) and put it on PATH, or "
        "list it in PYTEST_MODELARTS_PYTHONS, or take python from a conda channel instead "
        "(PYTEST_MODELARTS_PYTHON=conda, the default)."
    )
