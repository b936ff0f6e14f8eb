"""``mox.file``: MoXing's file API over local paths and the job's local OBS (``obs://`` and ``s3://`` URLs).

What each call does, and how it differs from the real MoXing: docs/moxing.md of pytest-modelarts. Any other name
of ``mox.file`` raises :class:`MoxUnsupportedError` (an ``AttributeError`` and a ``NotImplementedError``) naming it.
The same module is ``moxing.framework.file``, and ``file`` of ``moxing.tensorflow``, ``moxing.pytorch``, ``moxing.mxnet``.
"""

from __future__ import absolute_import

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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "File", "append", "append_remote", "copy", "copy_parallel", "exists", "get_size", "glob", "is_directory",
    "list_directory", "make_dirs", "mk_dir", "read", "remove", "rename", "scan_dir", "set_auth", "shift", "stat", "walk",
    "write", "MoxFileNameDuplicateException", "MoxFileNotExistsException", "MoxFileReadException", "MoxFileRespException",
    "MoxLocalObsException", "MoxUnsupportedError", "StatResult",
]
_FUNCTIONS = 21  # the first names of __all__: what an unsupported name's message lists


def append_remote(src_url, dst_url):
    # type: (Any, Any) -> None
    """Append the content of the object ``src_url`` to the object ``dst_url`` (made when missing)."""
    append(dst_url, read(src_url, binary=True), binary=True)


def shift(src, dst):
    # type: (str, str) -> None
    """``shift('os', 'mox')``: ``open``, ``os``, ``os.path``, ``glob`` and ``shutil`` calls take OBS URLs too;
    ``shift('mox', 'os')`` undoes it. The calls patched: ``pytest_modelarts/job_site/moxing/_shift.py``."""
    from . import _shift

    _shift.shift(src, dst)


def _missing_name(name):
    # type: (str) -> AttributeError
    return unsupported(__name__, name, ["mox.file." + n for n in __all__[:_FUNCTIONS]])


def _fallback(name):
    # type: (str) -> Any
    raise _missing_name(name)


from ._framework import install_fallback  # noqa: E402  (after every name of the module is defined)

install_fallback(__name__, _fallback)
