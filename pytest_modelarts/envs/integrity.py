"""A built environment's record of its own files, checked when it is reused: a damaged environment is rebuilt.

An environment's files are its own copies (uv and rattler copy, never hard-link, from their package caches: an edit
of one can change no other environment and no cache), read-only (a careless tool refuses to write them; a sandboxed
job sees them through a read-only bind). What remains, an edit by a tool that forces its way or a job of the
relocated mode, shows in the record: every file's and link's path, type, size and modification time, written at
the end of the build (:func:`seal`) and compared with the prefix at its first use in a process (:func:`damage`).
A file changed, deleted, or added beside them (but bytecode caches, which the interpreter may write) is damage.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

#: the record, at the top of the prefix
RECORD = ".pytest-modelarts-files.json"
#: the build's own bookkeeping at the top of the prefix (the marker, last use, the record): not the environment's
OWN_PREFIX = ".pytest-modelarts-"
#: prefixes found intact in this process: each environment is walked once per process (tens of ms for thousands of
#: files), not at every job
_VERIFIED: set[str] = set()


def _entries(prefix: Path) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for base, dirs, files in os.walk(prefix):
        rel_base = os.path.relpath(base, prefix)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            rel = name if rel_base == "." else os.path.join(rel_base, name)
            if rel_base == "." and name.startswith(OWN_PREFIX):
                continue
            path = os.path.join(base, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ["link", os.readlink(path)]
            else:
                found[rel] = ["file", st.st_size, st.st_mtime_ns]
    return found


def seal(prefix: Path) -> None:
    """Make the environment's files read-only and write its record (the last step of a build, before publishing)."""
    for base, _dirs, files in os.walk(prefix):
        for name in files:
            path = os.path.join(base, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode) and mode & 0o222:
                os.chmod(path, stat.S_IMODE(mode) & ~0o222)
    (prefix / RECORD).write_text(json.dumps(_entries(prefix), separators=(",", ":")))


def damage(prefix: Path) -> str | None:
    """None when ``prefix`` is as its record says; else what differs, e.g. ``lib/python3.11/site-packages/six.py
    changed``. An environment without a record was built before records (and copies) were kept: its files may be
    links into a package cache, and it is rebuilt too."""
    key = str(prefix)
    if key in _VERIFIED:
        return None
    try:
        recorded = json.loads((prefix / RECORD).read_text())
    except FileNotFoundError:
        return "no record of its files"
    except (OSError, ValueError) as exc:
        return f"its record is unreadable ({exc})"
    found = _entries(prefix)
    for rel, entry in recorded.items():
        now = found.get(rel)
        if now is None:
            return f"{rel} deleted"
        if now != entry:
            return f"{rel} changed"
    for rel in found:
        if rel not in recorded and "__pycache__" not in Path(rel).parts:
            return f"{rel} added"
    _VERIFIED.add(key)
    return None


def forget(prefix: Path) -> None:
    """Check ``prefix`` again at its next use (it was rebuilt or removed)."""
    _VERIFIED.discard(str(prefix))
