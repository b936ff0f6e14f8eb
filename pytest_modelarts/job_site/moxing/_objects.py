"""The objects ``mox.file`` hands out: :class:`File`, the result of ``stat``, the entries of ``scan_dir``."""

from __future__ import absolute_import

import errno
import os
import stat as _stat

from ._compat import PY2, makedirs, mtime_ns, string_types
from ._local import MoxFileNotExistsException, Target, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import IO, Any, Iterable, Iterator, List, Optional, Type

_MODE_CHARS = frozenset("rwab+t")


def open_mode(mode):
    # type: (str) -> str
    """A MoXing mode (``r w a r+ w+ a+``, binary as ``br``, ``rb``, ``br+``, ``rb+``, ``r+b``...) as an ``open`` mode."""
    if not isinstance(mode, string_types):
        raise TypeError("mode must be a str, not %s" % type(mode).__name__)
    kinds = [c for c in mode if c in "rwa"]
    if len(kinds) != 1 or not set(mode) <= _MODE_CHARS or len(set(mode)) != len(mode) or ("b" in mode and "t" in mode):
        raise ValueError("invalid mode %r: one of r, w, a, r+, w+, a+, each optionally binary (br, rb, br+, rb+ ...)" % mode)
    return str(kinds[0]) + ("+" if "+" in mode else "") + ("b" if "b" in mode else "")


def make_parent(path):
    # type: (str) -> None
    """Make the folders ``path`` lies in (OBS keys need none, so writing to OBS makes them)."""
    parent = os.path.dirname(path.rstrip("/"))
    if parent:
        makedirs(parent)


def open_target(target, mode):
    # type: (Target, str) -> IO[Any]
    """``open`` the target's local path (utf-8 text; 2.7: its native str); writing to OBS makes the key's folders."""
    if target.remote and mode[0] in "wa":
        make_parent(target.path)
    missing = False
    try:
        if PY2 or "b" in mode:
            return open(target.path, mode)
        return open(target.path, mode, encoding="utf-8")
    except (IOError, OSError) as error:
        if mode[0] != "r" or error.errno != errno.ENOENT:
            raise
        missing = True
    assert missing  # raised here, outside the handler: the message says it all
    raise MoxFileNotExistsException(errno.ENOENT, "no such file: %s" % target.url, target.url)


class File(object):
    """``mox.file.File(url, mode)``: used like the file object of ``open`` (and as a context manager)."""

    def __init__(self, url, mode="r"):
        # type: (Any, str) -> None
        self._target = resolve(url)
        self._mode = mode
        self._f = open_target(self._target, open_mode(mode))  # type: IO[Any]

    @property
    def name(self):
        # type: () -> str
        return self._target.url

    @property
    def mode(self):
        # type: () -> str
        return self._mode

    @property
    def closed(self):
        # type: () -> bool
        return self._f.closed

    def read(self, n=-1):
        # type: (int) -> Any
        return self._f.read(n)

    def readline(self, size=-1):
        # type: (int) -> Any
        return self._f.readline(size)

    def readlines(self, sizeint=-1):
        # type: (int) -> List[Any]
        return self._f.readlines(sizeint)

    def write(self, data):
        # type: (Any) -> Optional[int]
        return self._f.write(data)

    def writelines(self, sequence):
        # type: (Iterable[Any]) -> None
        self._f.writelines(sequence)

    def seek(self, offset, whence=0):
        # type: (int, int) -> Optional[int]
        return self._f.seek(offset, whence)

    def tell(self):
        # type: () -> int
        return self._f.tell()

    def seekable(self):
        # type: () -> bool
        return getattr(self._f, "seekable", lambda: True)()

    def readable(self):
        # type: () -> bool
        return getattr(self._f, "readable", lambda: "r" in self._f.mode or "+" in self._f.mode)()

    def writable(self):
        # type: () -> bool
        return getattr(self._f, "writable", lambda: self._f.mode[0] in "wa" or "+" in self._f.mode)()

    def flush(self):
        # type: () -> None
        self._f.flush()

    def size(self):
        # type: () -> int
        """The file's size in bytes (what is written so far included)."""
        if not self._f.closed and self.writable():
            self._f.flush()
        return os.stat(self._target.path).st_size

    def close(self):
        # type: () -> None
        self._f.close()

    def __iter__(self):
        # type: () -> Iterator[Any]
        return iter(self._f)

    def __next__(self):
        # type: () -> Any
        return next(self._f)

    next = __next__  # 2.7's iterator protocol

    def __enter__(self):
        # type: () -> File
        return self

    def __exit__(self, kind, error, tb):
        # type: (Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]) -> None
        self.close()

    def __getattr__(self, name):
        # type: (str) -> Any
        """Anything else a file object has (``readinto``, ``buffer``, ``fileno``...), for libraries given a File."""
        if name == "_f":
            raise AttributeError(name)
        return getattr(self._f, name)

    def __repr__(self):
        # type: () -> str
        return "<mox.file.File %r mode %r>" % (self._target.url, self._mode)


class StatResult(object):
    """What ``mox.file.stat`` returns: ``length``, ``mtime_nsec``, ``is_directory`` (and the ``os.stat`` names of them)."""

    __slots__ = ("length", "mtime_nsec", "is_directory")

    def __init__(self, length, mtime_nsec, is_directory):
        # type: (int, int, bool) -> None
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    @classmethod
    def of(cls, result):
        # type: (os.stat_result) -> StatResult
        directory = _stat.S_ISDIR(result.st_mode)
        return cls(0 if directory else result.st_size, mtime_ns(result), directory)

    @property
    def st_size(self):
        # type: () -> int
        return self.length

    @property
    def st_mtime(self):
        # type: () -> float
        return self.mtime_nsec / 1e9

    @property
    def st_mtime_ns(self):
        # type: () -> int
        return self.mtime_nsec

    def __repr__(self):
        # type: () -> str
        return "StatResult(length=%d, mtime_nsec=%d, is_directory=%r)" % (self.length, self.mtime_nsec, self.is_directory)


class ObsDirEntry(object):
    """An entry of ``scan_dir`` over an OBS URL: like ``os.DirEntry``, with ``path`` an OBS URL."""

    __slots__ = ("_entry", "name", "path")

    def __init__(self, entry, path):
        # type: (os.DirEntry[str], str) -> None
        self._entry = entry
        self.name = entry.name
        self.path = path

    def is_dir(self, follow_symlinks=True):
        # type: (bool) -> bool
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, follow_symlinks=True):
        # type: (bool) -> bool
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_symlink(self):
        # type: () -> bool
        return False

    def stat(self, follow_symlinks=True):
        # type: (bool) -> os.stat_result
        return self._entry.stat(follow_symlinks=follow_symlinks)

    def inode(self):
        # type: () -> int
        return self._entry.inode()

    def __fspath__(self):
        # type: () -> str
        return self.path

    def __repr__(self):
        # type: () -> str
        return "<ObsDirEntry %r>" % self.name


class ObsScanDir(object):
    """What ``scan_dir`` returns for an OBS URL: the entries in name order, an iterator usable in ``with`` (as ``os.scandir``)."""

    def __init__(self, target):
        # type: (Target) -> None
        found = os.scandir(target.path)
        try:
            entries = sorted(found, key=lambda entry: entry.name)
        finally:
            found.close()
        base = target.url if target.url.endswith("/") else target.url + "/"
        self._entries = iter([ObsDirEntry(entry, base + entry.name) for entry in entries])  # type: Iterator[ObsDirEntry]

    def __iter__(self):
        # type: () -> ObsScanDir
        return self

    def __next__(self):
        # type: () -> ObsDirEntry
        return next(self._entries)

    next = __next__

    def close(self):
        # type: () -> None
        self._entries = iter([])

    def __enter__(self):
        # type: () -> ObsScanDir
        return self

    def __exit__(self, kind, error, tb):
        # type: (Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]) -> None
        self.close()
