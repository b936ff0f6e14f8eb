"""Whether a local path can serve as what a parameter says, decided before anything runs.

A path the run will write (``local_root``, ``cache_dir``, ``output_path``, ``log_url``, ``obs_root``, a lock file)
or read (``code_dir``, ``inputs``) is refused, naming the parameter, when it holds a NUL byte, is longer than the
kernel takes (PATH_MAX) or has a name longer than NAME_MAX, runs into a symlink loop, lies below a file, lies in a
pseudo file system (``/proc``, ``/sys``, ``/dev``: the kernel's, not a folder of files), or, for a path written, is a
file where a folder goes or lies on a read-only file system. Otherwise these surface later as ``ELOOP``,
``ENAMETOOLONG`` or ``EROFS`` tracebacks, mid-run.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from ..errors import ParameterError

PATH_MAX = 4096  # Linux's, with the terminating NUL
NAME_MAX = 255
PSEUDO = ("/proc", "/sys", "/dev")
#: the longest wait a timer of this interpreter takes (threading.TIMEOUT_MAX, ~292 years): a number of seconds
#: above it fails with OverflowError when the wait begins, mid-run
MAX_SECONDS = threading.TIMEOUT_MAX


def check_path(owner: str, parameter: str, value: object, *, written: bool, folder: bool = True) -> None:
    """:class:`ParameterError` naming ``parameter`` when ``value`` is not a usable path (see :func:`path_problem`)."""
    if not isinstance(value, (str, os.PathLike)):
        raise ParameterError(owner, parameter, value, "must be a path (str or os.PathLike)")
    problem = path_problem(value, written=written, folder=folder)
    if problem is not None:
        raise ParameterError(owner, parameter, os.fspath(value), problem)


def seconds_problem(value: object, *, zero: bool) -> str | None:
    """Why ``value`` is not a number of seconds a timer takes (``zero``: 0 allowed), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "is not a number of seconds"
    if value != value or not (0 <= value if zero else 0 < value):  # nan, or below the range
        return f"must be a number of seconds {'>=' if zero else '>'} 0"
    if value > MAX_SECONDS:
        return f"is beyond the longest wait a timer takes ({MAX_SECONDS:.0f} s)"
    return None


def path_problem(value: str | os.PathLike[str], *, written: bool, folder: bool = True) -> str | None:
    """Why ``value`` cannot be used (``written``: the run creates or writes it; ``folder``: it must be a folder, when
    it exists), or None. A path that does not exist is no problem here: whether it must is the caller's rule."""
    text = os.fspath(value)
    if "\0" in text:
        return "holds a NUL byte"
    size = len(os.fsencode(text))
    if size >= PATH_MAX:
        return f"is {size} bytes long, over the system's limit (PATH_MAX {PATH_MAX})"
    name = next((part for part in Path(text).parts if len(os.fsencode(part)) > NAME_MAX), None)
    if name is not None:
        return f"has a name of {len(os.fsencode(name))} bytes ({name[:20]}...), over the system's limit (NAME_MAX {NAME_MAX})"
    path = Path(text).expanduser()
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "runs into a symlink loop"
        if exc.errno == errno.ENOTDIR:
            return "lies below a file, not a folder"
        if exc.errno == errno.ENAMETOOLONG:
            return "is longer than the system takes (ENAMETOOLONG)"
        if exc.errno != errno.ENOENT:
            return f"cannot be looked at ({exc.strerror})"
        st = None
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    real = os.path.realpath(existing)
    # a device read as inputs is refused by the code-tree policy, which says which kind of file it is
    shm = real == "/dev/shm" or real.startswith("/dev/shm/")  # a tmpfs of files, a ramdisk some runners use
    if not shm and any(real == p or real.startswith(p + "/") for p in (PSEUDO if written else PSEUDO[:2])):
        return f"lies in {real.split('/')[1] and '/' + real.split('/')[1]}, a pseudo file system of the kernel, not a folder of files"
    if st is not None and folder and written and not os.path.isdir(path):
        return "is a file, not a folder"
    if written:
        try:
            readonly = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        except OSError:
            readonly = False
        if readonly:
            return f"lies on a read-only file system ({real})"
        if not os.access(existing, os.W_OK):
            return f"is not writable ({real})"
    return None


def nearest_sibling(path: Path) -> str:
    """``; did you mean '<sibling>'?`` for a path whose last part is a typo of an existing sibling, else ``""``."""
    import difflib

    parent = path.parent
    try:
        names = [entry.name for entry in parent.iterdir()] if parent.is_dir() else []
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
    return f"; did you mean {str(parent / close[0])!r}?" if close else ""
