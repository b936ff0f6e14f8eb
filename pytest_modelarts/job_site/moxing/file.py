"""``mox.file``: MoXing's file API over local paths and the job's local OBS (``obs://`` and ``s3://`` URLs).

What each call does, and how it differs from the real MoXing: docs/moxing.md of pytest-modelarts. Any other name
of ``mox.file`` raises :class:`MoxUnsupportedError` (an ``AttributeError`` and a ``NotImplementedError``) naming it.
"""

from __future__ import annotations

from ._local import (
    MoxFileNameDuplicateException,
    MoxFileNotExistsException,
    MoxFileReadException,
    MoxFileRespException,
    MoxLocalObsException,
    MoxUnsupportedError,
    unsupported,
)
from ._objects import File, StatResult
from ._ops import (
    append,
    copy,
    copy_parallel,
    exists,
    get_size,
    glob,
    is_directory,
    list_directory,
    make_dirs,
    mk_dir,
    read,
    remove,
    rename,
    scan_dir,
    set_auth,
    stat,
    walk,
    write,
)

__all__ = [
    "File", "append", "copy", "copy_parallel", "exists", "get_size", "glob", "is_directory", "list_directory", "make_dirs",
    "mk_dir", "read", "remove", "rename", "scan_dir", "set_auth", "shift", "stat", "walk", "write",
    "MoxFileNameDuplicateException", "MoxFileNotExistsException", "MoxFileReadException", "MoxFileRespException",
    "MoxLocalObsException", "MoxUnsupportedError", "StatResult",
]


def shift(src: str, dst: str) -> None:
    """``shift('os', 'mox')``: ``open``, ``os``, ``os.path``, ``glob`` and ``shutil`` calls take OBS URLs too;
    ``shift('mox', 'os')`` undoes it. The calls patched: ``pytest_modelarts/job_site/moxing/_shift.py``."""
    from . import _shift

    _shift.shift(src, dst)


def __getattr__(name: str) -> object:
    raise unsupported(__name__, name, ["mox.file." + n for n in __all__[:20]])
