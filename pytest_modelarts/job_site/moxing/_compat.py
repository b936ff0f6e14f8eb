"""What differs between the Pythons a ModelArts engine has (2.7, 3.6 .. 3.13), said once for the local moxing.

Every module of the local moxing is written in the syntax all of them accept: no f-strings, no annotations (type
comments instead), no keyword-only arguments, no ``yield from``, no ``raise ... from``. The names below stand in for
what 2.7 lacks; standard library only.
"""

from __future__ import absolute_import

import errno
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Tuple, Type

PY2 = sys.version_info[0] == 2

if sys.version_info >= (3,):
    string_types = (str,)  # type: Tuple[Type[Any], ...]
    text_type = str  # type: Type[Any]
    FileNotFoundError_ = FileNotFoundError
    FileExistsError_ = FileExistsError
    IsADirectoryError_ = IsADirectoryError
    NotADirectoryError_ = NotADirectoryError
else:  # Python 2.7: one OSError, told apart by errno
    string_types = (str, unicode)  # noqa: F821
    text_type = unicode  # noqa: F821
    FileNotFoundError_ = FileExistsError_ = IsADirectoryError_ = NotADirectoryError_ = OSError


def fspath(url):
    # type: (Any) -> str
    """``os.fspath`` where it exists (3.6+), else what a path-like object says; a str as it is."""
    if isinstance(url, string_types):
        return url  # type: ignore[no-any-return]
    method = getattr(type(url), "__fspath__", None)
    if method is None:
        raise TypeError("moxing takes str paths and URLs, not %s: %r" % (type(url).__name__, url))
    text = method(url)
    if not isinstance(text, string_types):
        raise TypeError("moxing takes str paths and URLs, not %s: %r" % (type(text).__name__, text))
    return text  # type: ignore[no-any-return]


def makedirs(path):
    # type: (str) -> None
    """``os.makedirs(path, exist_ok=True)``, which 2.7 lacks."""
    try:
        os.makedirs(path)
    except OSError as error:
        if error.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def replace(src, dst):
    # type: (str, str) -> None
    """``os.replace`` (2.7: ``os.rename``, which replaces a file on POSIX as well)."""
    getattr(os, "replace", os.rename)(src, dst)


def mtime_ns(result):
    # type: (os.stat_result) -> int
    return int(getattr(result, "st_mtime_ns", result.st_mtime * 1e9))


def oserror(kind, code, message, name):
    # type: (Type[OSError], int, str, str) -> OSError
    """``kind(code, message, name)``: on 2.7 the kinds are all ``OSError``, told apart by ``code``."""
    return kind(code, message, name)
