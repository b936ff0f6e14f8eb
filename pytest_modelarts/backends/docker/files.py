"""Who owns the job's files: whatever uid a container ran as, outputs end up with the invoking user."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from ...errors import ConfigurationError
from ..sandbox import walk

OWNER_VARIABLE = "PYTEST_MODELARTS_OUTPUT_OWNER"


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
