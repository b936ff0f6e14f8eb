"""``PythonRuntime``: the interpreter a local run uses, and how to activate it."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True)
class PythonRuntime:
    """An interpreter and its activation.

    ``path_prefix`` goes in front of ``PATH``; ``env`` holds the other activation variables (``CONDA_PREFIX``,
    library paths). ``isolated`` is False for an interpreter taken as it is (the current one or the one named
    by ``Session(local_python=...)``): such runs are labelled *unisolated* in logs and reports.
    ``env_hash`` identifies a locked environment (the hash of its resolved lock), None when unisolated.
    """

    python: Path
    isolated: bool
    label: str
    env_hash: str | None = None
    prefix: Path | None = None
    path_prefix: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def unisolated(cls, python: Path | None = None) -> PythonRuntime:
        exe = Path(python or sys.executable)
        return cls(python=exe, isolated=False, label=f"unisolated interpreter {exe}")

    def describe(self) -> str:
        return self.label if not self.env_hash else f"{self.label} (env {self.env_hash[:12]})"
