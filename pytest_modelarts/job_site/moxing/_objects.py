"""The objects ``mox.file`` hands out: :class:`File`, the result of ``stat``, the entries of ``scan_dir``."""

from __future__ import annotations

import os
import stat as _stat

from ._local import MoxFileNotExistsException, Target, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType
    from typing import IO, Any

_MODE_CHARS = frozenset("rwab+t")


def open_mode(mode: str) -> str:
    """A MoXing mode (``r w a r+ w+ a+``, binary as ``br``, ``rb``, ``br+``, ``rb+``, ``r+b``...) as an ``open`` mode."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a str, not {type(mode).__name__}")
    kinds = [c for c in mode if c in "rwa"]
    if len(kinds) != 1 or not set(mode) <= _MODE_CHARS or len(set(mode)) != len(mode) \
            or ("b" in mode and "t" in mode):
        raise ValueError(f"invalid mode {mode!r}: one of r, w, a, r+, w+, a+, each optionally binary (br, rb, br+, rb+ ...)")
    return kinds[0] + ("+" if "+" in mode else "") + ("b" if "b" in mode else "")


def make_parent(path: str) -> None:
    """Make the folders ``path`` lies in (OBS keys need none, so writing to OBS makes them)."""
    parent = os.path.dirname(path.rstrip("/"))
    if parent:
        os.makedirs(parent, exist_ok=True)


def open_target(target: Target, mode: str) -> IO[Any]:
    """``open`` the target's local path (utf-8 text); writing to OBS needs no folders, so they are made for it."""
    if target.remote and mode[0] in "wa":
        make_parent(target.path)
    try:
        return open(target.path, mode, encoding=None if "b" in mode else "utf-8")
    except FileNotFoundError as error:
        if mode[0] == "r":
            raise MoxFileNotExistsException(error.errno, f"no such file: {target.url}", target.url) from None
        raise


class File:
    """``mox.file.File(url, mode)``: used like the file object of ``open`` (and as a context manager)."""

    def __init__(self, url: str | os.PathLike[str], mode: str = "r") -> None:
        self._target = resolve(url)
        self._mode = mode
        self._f: IO[Any] = open_target(self._target, open_mode(mode))

    @property
    def name(self) -> str:
        return self._target.url

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def closed(self) -> bool:
        return self._f.closed

    def read(self, n: int = -1) -> Any:
        return self._f.read(n)

    def readline(self, size: int = -1) -> Any:
        return self._f.readline(size)

    def readlines(self, sizeint: int = -1) -> list[Any]:
        return self._f.readlines(sizeint)

    def write(self, data: Any) -> int:
        return self._f.write(data)

    def writelines(self, sequence: Iterable[Any]) -> None:
        self._f.writelines(sequence)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return self._f.seekable()

    def readable(self) -> bool:
        return self._f.readable()

    def writable(self) -> bool:
        return self._f.writable()

    def flush(self) -> None:
        self._f.flush()

    def size(self) -> int:
        """The file's size in bytes (what is written so far included)."""
        if not self._f.closed and self._f.writable():
            self._f.flush()
        return os.stat(self._target.path).st_size

    def close(self) -> None:
        self._f.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._f)

    def __next__(self) -> Any:
        return next(self._f)

    def __enter__(self) -> File:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        """Anything else a file object has (``readinto``, ``buffer``, ``fileno``...), for libraries given a File."""
        if name == "_f":
            raise AttributeError(name)
        return getattr(self._f, name)

    def __repr__(self) -> str:
        return f"<mox.file.File {self._target.url!r} mode {self._mode!r}>"


class StatResult:
    """What ``mox.file.stat`` returns: ``length``, ``mtime_nsec``, ``is_directory`` (and the ``os.stat`` names of them)."""

    __slots__ = ("length", "mtime_nsec", "is_directory")

    def __init__(self, length: int, mtime_nsec: int, is_directory: bool) -> None:
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    @classmethod
    def of(cls, result: os.stat_result) -> StatResult:
        directory = _stat.S_ISDIR(result.st_mode)
        return cls(0 if directory else result.st_size, result.st_mtime_ns, directory)

    @property
    def st_size(self) -> int:
        return self.length

    @property
    def st_mtime(self) -> float:
        return self.mtime_nsec / 1e9

    @property
    def st_mtime_ns(self) -> int:
        return self.mtime_nsec

    def __repr__(self) -> str:
        return f"StatResult(length={self.length}, mtime_nsec={self.mtime_nsec}, is_directory={self.is_directory})"


class ObsDirEntry:
    """An entry of ``scan_dir`` over an OBS URL: like ``os.DirEntry``, with ``path`` an OBS URL."""

    __slots__ = ("_entry", "name", "path")

    def __init__(self, entry: os.DirEntry[str], path: str) -> None:
        self._entry = entry
        self.name = entry.name
        self.path = path

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def is_symlink(self) -> bool:
        return False

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        return self._entry.stat(follow_symlinks=follow_symlinks)

    def inode(self) -> int:
        return self._entry.inode()

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<ObsDirEntry {self.name!r}>"


class ObsScanDir:
    """What ``scan_dir`` returns for an OBS URL: the entries in name order, an iterator usable in ``with`` (as ``os.scandir``)."""

    def __init__(self, target: Target) -> None:
        with os.scandir(target.path) as found:
            entries = sorted(found, key=lambda entry: entry.name)
        base = target.url if target.url.endswith("/") else target.url + "/"
        self._entries = iter([ObsDirEntry(entry, base + entry.name) for entry in entries])

    def __iter__(self) -> ObsScanDir:
        return self

    def __next__(self) -> ObsDirEntry:
        return next(self._entries)

    def close(self) -> None:
        self._entries = iter([])

    def __enter__(self) -> ObsScanDir:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
