"""Lost writes of a relocated job: what it created, changed or deleted in its tree outside what the platform keeps.

A sandboxed node sees its writes through overlays (:meth:`.nodes.JobNodes.lost_writes`); a relocated worker writes
straight into its copy of the container's tree under the sandbox. So the tree is listed (path, size, mtime) just
before the workers start and again when they have ended; the difference, outside ``train_url``, the logs and a v1
job's bucket, is what online would be lost. Entries read as the nodes' do: ``user-job-dir/model.pkl (created)``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .. import sandbox as sb

#: one worker's tree: relative path -> (size, mtime in ns); directories are not listed, as a node's are not
Listing = dict[str, tuple[int, int]]


def _kept(box: sb.Sandbox, worker: int) -> set[str]:
    layout = box.layout_of(worker)
    return {str(layout.train_url()), str(layout.log_dir), str(layout.home / ".obs")}


def _list(box: sb.Sandbox, worker: int) -> Listing:
    home = str(box.layout_of(worker).home)
    kept = _kept(box, worker)
    listing: Listing = {}
    for base, dirs, files in os.walk(home):
        dirs[:] = [d for d in dirs if os.path.join(base, d) not in kept]  # an output of many files costs nothing
        for name in files:
            path = os.path.join(base, name)
            try:
                st = os.lstat(path)
            except OSError:  # gone meanwhile
                continue
            listing[os.path.relpath(path, home)] = (st.st_size, st.st_mtime_ns)
    return listing


def snapshot(box: sb.Sandbox, count: int) -> list[Listing]:
    """Every worker's tree before it starts."""
    return [_list(box, i) for i in range(count)]


def lost_writes(box: sb.Sandbox, before: list[Listing]) -> list[str]:
    """What each worker created, changed or deleted since :func:`snapshot`, as the job saw the paths (relative to
    ``MA_MOUNT_PATH`` where they lie there), with the worker when there are several."""
    found: list[str] = []
    contract_layout = box.contract.layout()
    for worker, earlier in enumerate(before):
        now = _list(box, worker)
        changes = [(rel, "created") for rel in now if rel not in earlier]
        changes += [(rel, "changed") for rel in now if rel in earlier and now[rel] != earlier[rel]]
        changes += [(rel, "deleted") for rel in earlier if rel not in now]
        suffix = f", worker {worker}" if len(before) > 1 else ""
        for rel, what in sorted(changes):
            inside = contract_layout.home / PurePosixPath(Path(rel).as_posix())
            shown = inside.relative_to(contract_layout.mount) if contract_layout.mount in inside.parents else inside
            found.append(f"{shown} ({what}{suffix})")
    return found
