"""What a killed run leaves on disk, found and removed by the next run: a job's sandbox, a half-copied output file.

A sandbox holds an *owner note* (``.modelarts-owner``: the pid and start time of the process that made it) from its
creation until its job has ended and delivered; the job's end removes the note, and what becomes of the sandbox is
then the run's policy (removed when the test passed, kept to look into when it failed, kept on request). A sandbox
whose note names a process that is gone was left by a run killed mid-job (SIGKILL, a crash, a power cut): nobody
decided to keep it, and the next job made under the same ``runs/`` folder removes it.

An output file is copied beside its destination under ``.<name>.<pid>.partial`` and renamed: a partial file of a
process that is gone was left by a kill during delivery, and the next delivery into that folder removes it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..core.oskit import start_ticks

OWNER_NOTE = ".modelarts-owner"
#: ``.<name>.<pid>.partial``
PARTIAL = re.compile(r"^\..+\.(\d+)\.partial$")
#: ``runs/`` folders swept in this process (each once: a run's later jobs find nothing new of dead runs)
_SWEPT: set[str] = set()


def _me() -> str:
    return f"{os.getpid()} {start_ticks(os.getpid())}"


def _alive(note: str) -> bool:
    """Whether the process a note names (``<pid> <start ticks>``) is still the one that wrote it."""
    try:
        pid_text, ticks = note.split()
        pid = int(pid_text)
    except ValueError:
        return False
    return start_ticks(pid) == ticks


def claim(sandbox: Path) -> None:
    """Note this process as the owner of ``sandbox`` while its job runs."""
    (sandbox / OWNER_NOTE).write_text(_me())


def release(sandbox: Path) -> None:
    """The job of ``sandbox`` ended and delivered: the sandbox is the run's to keep or remove."""
    with contextlib.suppress(OSError):
        (sandbox / OWNER_NOTE).unlink()


def stale_sandboxes(runs: Path) -> list[Path]:
    """The sandboxes of ``runs`` whose owner note names a process that is gone."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(runs):
            if not entry.is_dir(follow_symlinks=False):
                continue
            try:
                note = (Path(entry.path) / OWNER_NOTE).read_text()
            except OSError:
                continue  # no note: ended, and kept on purpose (or not ours)
            if not _alive(note):
                found.append(Path(entry.path))
    return found


def sweep_runs(runs: Path, remove: Callable[[Path], None]) -> list[Path]:
    """Remove (with ``remove``) the sandboxes killed runs left in ``runs``, once per process and folder; return them."""
    key = str(runs)
    if key in _SWEPT:
        return []
    _SWEPT.add(key)
    stale = stale_sandboxes(runs)
    for sandbox in stale:
        remove(sandbox)
    return stale


def partial_name(dest: Path) -> Path:
    """Where a copy of ``dest`` is written before it is renamed into place."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.partial")


def sweep_partials(folder: Path) -> list[Path]:
    """Remove the partial files of processes that are gone under ``folder``; return them."""
    removed = []
    for base, _dirs, files in os.walk(folder):
        for name in files:
            match = PARTIAL.match(name)
            if match is None or int(match.group(1)) == os.getpid():
                continue
            if not os.path.exists(f"/proc/{match.group(1)}"):
                path = Path(base) / name
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed
