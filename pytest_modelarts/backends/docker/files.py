"""Who owns the job's files: whatever uid a container ran as, outputs end up with the invoking user."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ...errors import ConfigurationError

OWNER_VARIABLE = "PYTEST_MODELARTS_OUTPUT_OWNER"


def walk(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    yield root
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(base) / name


def chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in walk(root):
        with contextlib.suppress(FileNotFoundError):
            os.lchown(path, uid, gid)


def output_owner() -> tuple[int, int]:
    """Who the job's output files are given to: :data:`OWNER_VARIABLE` (``uid[:gid]``), else the invoking user."""
    value = os.environ.get(OWNER_VARIABLE)
    if not value:
        return os.getuid(), os.getgid()
    m = re.match(r"^(\d+)(?::(\d+))?$", value)
    if not m:
        raise ConfigurationError(f"{OWNER_VARIABLE}={value!r}: must be 'uid' or 'uid:gid' (numbers)")
    uid = int(m.group(1))
    return uid, int(m.group(2)) if m.group(2) else uid
