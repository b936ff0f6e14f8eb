"""How many sandboxes of failed smoke jobs stay on disk (``--modelarts-keep-failed=N``, ini ``modelarts_keep_failed``).

A failed job's sandbox (``<root>/pytest/<worker>/runs/<job>-<id>/``) is kept to look into, and marked with a
``.modelarts-failed`` file when it is kept. Each time one is kept, the oldest marked sandboxes of that ``runs/``
directory beyond the limit are removed, so a suite that keeps failing does not fill the disk. A sandbox kept
because of ``--modelarts-keep-sandboxes`` (a passing job) is not marked, so never counted nor removed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..backends.sandbox import remove

#: the file that marks a sandbox kept for a failed job; its mtime is when it was kept
FAILED_MARK = ".modelarts-failed"


def keep_failed(sandbox: Path, limit: int) -> list[Path]:
    """Mark ``sandbox`` as kept for a failed job, then remove the oldest marked sandboxes beside it beyond ``limit``
    (``0`` keeps none); return the removed ones."""
    with contextlib.suppress(OSError):  # a sandbox already gone has nothing to keep
        (sandbox / FAILED_MARK).touch()
    kept = []
    for mark in sandbox.parent.glob(f"*/{FAILED_MARK}"):
        with contextlib.suppress(OSError):
            kept.append((mark.stat().st_mtime_ns, mark.parent.name, mark.parent))
    kept.sort()
    removed = [path for _, _, path in kept[: max(0, len(kept) - limit)]]
    for path in removed:
        remove(path)
    return removed
