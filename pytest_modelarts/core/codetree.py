"""What belongs to a code directory (or a local input tree): one policy for counting, copying, hashing and uploading.

ModelArts downloads the code directory into the container; we copy it into a sandbox, hash it for the
promotion ledger and upload it to OBS for an online job. All four see the same files, those of
:meth:`CodeTree.entries`: everything under the root except

* version-control and tool caches: :data:`EXCLUDED_DIRS` (``.git``, ``__pycache__``, ``.pytest_cache``, ...),
  and compiled files (``*.pyc``, ``*.pyo``);
* the run root ``.modelarts`` (where sandboxes go by default), and any path in ``exclude`` (the configured
  sandbox root): ``code_dir="."`` must never copy earlier runs, or the run in progress, into itself.

Directory symlinks are not followed (a link is an entry of its own); what was left out is listed in
:attr:`CodeTree.excluded` so that a caller can say so.

Symlinks (:meth:`CodeTree.refusal`): a link that leaves the tree, or points at nothing, is refused before anything
runs (online it would upload a file from outside the code directory, or nothing). A link inside the tree is kept:
a local run copies it as a link; an online job gets its target's content at the link's path (a file link as a
copy of the file, a directory link as a copy of the directory's files). Anything but files, folders and links
(a FIFO, a socket, a device) is refused too: ModelArts could not download it, and reading it may never end.

Within :func:`digest_once` (one promotion: its ledger key, then its upload under that digest) a tree is read for
its digest once.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox",
                           ".modelarts"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
#: the digests taken within the current :func:`digest_once` block, by tree (None outside one)
_DIGESTS: contextvars.ContextVar[dict[tuple[Path, tuple[Path, ...]], str] | None] = contextvars.ContextVar(
    "pytest_modelarts_digests", default=None)


@contextlib.contextmanager
def digest_once() -> Iterator[None]:
    """Within this block each tree (root and exclusions) is read for its :meth:`CodeTree.digest` once: what a job's
    code is hashed as, for its ledger key and for its upload, is one reading of it. Blocks nest (the outer wins)."""
    if _DIGESTS.get() is not None:
        yield
        return
    token = _DIGESTS.set({})
    try:
        yield
    finally:
        _DIGESTS.reset(token)


@dataclass(frozen=True)
class Entry:
    """One file, directory or symlink of a tree; ``rel`` is its POSIX path relative to the root."""

    rel: str
    path: Path
    is_dir: bool


@dataclass(frozen=True)
class TreeStats:
    files: int
    dirs: int
    bytes: int
    depth: int  # of the deepest entry: a file at the root has depth 1
    refusal: str | None = None  # the first entry counted that :meth:`CodeTree.refusal` would name, and why


@dataclass(frozen=True)
class CodeTree:
    """A directory (or a single file) seen through the policy above."""

    root: Path
    exclude: tuple[Path, ...] = ()
    excluded: list[str] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", tuple(p.resolve() for p in self.exclude))

    def _skipped(self, path: Path, name: str, is_dir: bool) -> bool:
        if is_dir and name in EXCLUDED_DIRS or not is_dir and name.endswith(EXCLUDED_SUFFIXES):
            return True
        return bool(self.exclude) and is_dir and path.resolve() in self.exclude

    def entries(self) -> Iterator[Entry]:
        """Every entry of the tree that belongs to it, parents before children, in sorted order."""
        self.excluded.clear()
        if not self.root.is_dir():
            yield Entry(self.root.name, self.root, False)
            return
        for base, dirs, files in os.walk(self.root):
            base_path = Path(base)
            kept = []
            for name in sorted(dirs):
                full = base_path / name
                rel = full.relative_to(self.root).as_posix()
                if full.is_symlink():  # os.walk does not descend into it: a link of its own
                    yield Entry(rel, full, False)
                elif self._skipped(full, name, True):
                    self.excluded.append(rel + "/")
                else:
                    kept.append(name)
                    yield Entry(rel, full, True)
            dirs[:] = kept
            for name in sorted(files):
                full = base_path / name
                rel = full.relative_to(self.root).as_posix()
                if self._skipped(full, name, False):
                    self.excluded.append(rel)
                else:
                    yield Entry(rel, full, False)

    def files(self) -> list[Entry]:
        """The entries that are not directories (files and symlinks)."""
        return [e for e in self.entries() if not e.is_dir]

    def stats(self, *, stop_after_entries: int | None = None) -> TreeStats:
        """Counts of the tree, and its :meth:`refusal` among the entries counted, in one walk; with
        ``stop_after_entries``, stops once more files and folders than that were seen."""
        files = dirs = size = depth = 0
        refusal = None
        root = self._link_root()
        for entry in self.entries():
            depth = max(depth, entry.rel.count("/") + 1)
            if entry.is_dir:
                dirs += 1
            else:
                files += 1
                if entry.path.is_file():
                    size += entry.path.stat().st_size
            refusal = refusal or self._refusal_of(entry, root, links=True)
            if stop_after_entries is not None and files + dirs > stop_after_entries:
                break
        return TreeStats(files, dirs, size, depth, refusal)

    def refusal(self, *, links: bool = True) -> str | None:
        """Why this tree cannot be a code directory (or local inputs), naming the entry; None when it can.

        ``links=False`` accepts links that leave the tree (local inputs: their content is what is copied).
        """
        root = self._link_root()
        for entry in self.entries():
            problem = self._refusal_of(entry, root, links)
            if problem:
                return problem
        return None

    def _link_root(self) -> Path:
        """The resolved directory that links must stay inside."""
        return self.root.resolve() if self.root.is_dir() else self.root.resolve().parent

    def _refusal_of(self, entry: Entry, root: Path, links: bool) -> str | None:
        problem = _entry_problem(entry.path, root, links)
        return f"{entry.rel if self.root.is_dir() else str(self.root)!r} {problem}" if problem else None

    def copy_to(self, target: Path, *, link: bool = False) -> None:
        """Copy the tree's entries under ``target`` (symlinks as symlinks), as ModelArts downloads a code dir.

        ``link=True`` hard-links the files instead where it can (the same file system): O(entries), not O(bytes),
        for a read-only view such as the lower layer of an overlay, which never writes into it.
        """
        target.mkdir(parents=True, exist_ok=True)
        if not self.root.is_dir():
            _place(self.root, target / self.root.name, link)
            return
        for entry in self.entries():
            dest = target / entry.rel
            if entry.is_dir:
                dest.mkdir(exist_ok=True)
            elif entry.path.is_symlink():
                os.symlink(os.readlink(entry.path), dest)
            else:
                _place(entry.path, dest, link)

    def digest(self) -> str:
        """sha256 over the relative paths and contents of the tree's files (a symlink counts by its target's content);
        within :func:`digest_once`, the tree's first digest."""
        memo = _DIGESTS.get()
        if memo is None:
            return self._read_digest()
        key = (self.root.absolute(), self.exclude)
        if key not in memo:
            memo[key] = self._read_digest()
        return memo[key]

    def _read_digest(self) -> str:
        digest = hashlib.sha256()
        for entry in sorted(self.files(), key=lambda e: e.rel):
            h = hashlib.sha256()
            if not entry.path.is_file():  # a link to a directory, or a dangling one: its target names it
                h.update(b"link:" + os.readlink(entry.path).encode())
                digest.update(f"{entry.rel}\0{h.hexdigest()}\n".encode())
                continue
            with open(entry.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            digest.update(f"{entry.rel}\0{h.hexdigest()}\n".encode())
        return digest.hexdigest()


def _entry_problem(path: Path, root: Path, links: bool) -> str | None:
    """What is wrong with one entry of a tree rooted at ``root`` (resolved), or None."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(mode):
        target = os.readlink(path)
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, later versions OSError
            return f"is a symlink to {target!r} that runs into a symlink loop: remove the link"
        if links and not resolved.is_relative_to(root):
            return (f"is a symlink to {target!r}, outside the directory: an online job would upload that file's content; "
                    "copy the file into the directory, or give the link a target inside it")
        if not resolved.exists():
            return f"is a symlink to {target!r}, which does not exist: remove the link"
        mode = resolved.stat().st_mode
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"is {kind}, not a file: ModelArts copies only files and folders; remove it"


def _place(source: Path, dest: Path, link: bool) -> None:
    if link:
        try:
            os.link(source, dest)
            return
        except OSError:  # another file system, or links refused: copy
            pass
    shutil.copy2(source, dest)
