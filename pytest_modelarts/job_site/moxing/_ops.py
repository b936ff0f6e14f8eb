"""The functions of ``mox.file`` over local paths and the local OBS (see docs/moxing.md for each one's behaviour)."""

from __future__ import annotations

import errno
import os

from ._local import MoxFileNameDuplicateException, MoxFileNotExistsException, Target, resolve
from ._objects import File, ObsScanDir, StatResult, make_parent, open_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    Url = str | os.PathLike[str]


def _missing(target: Target) -> MoxFileNotExistsException:
    return MoxFileNotExistsException(errno.ENOENT, f"no such file or directory: {target.url}", target.url)


def _existing(url: Url) -> Target:
    target = resolve(url)
    if not os.path.lexists(target.path):
        raise _missing(target)
    return target


def exists(url: Url) -> bool:
    return os.path.exists(resolve(url).path)


def is_directory(url: Url) -> bool:
    return os.path.isdir(resolve(url).path)


def make_dirs(url: Url) -> None:
    os.makedirs(resolve(url).path, exist_ok=True)


def mk_dir(url: Url) -> None:
    target = resolve(url)
    if os.path.isdir(target.path):
        return
    try:
        os.mkdir(target.path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"the parent directory of {target.url} does not exist", target.url) from None


def list_directory(url: Url, recursive: bool = False) -> list[str]:
    """The names in a directory, sorted; ``recursive``: the paths (``/``-separated) of every file below it, relative to it."""
    target = _existing(url)
    if not recursive or not os.path.isdir(target.path):
        return sorted(os.listdir(target.path))
    return sorted(_relative_files(target.path))


def _relative_files(top: str) -> Iterator[str]:
    for root, _dirs, files in os.walk(top, followlinks=True):
        rel = os.path.relpath(root, top).replace(os.sep, "/")
        yield from (name if rel == "." else f"{rel}/{name}" for name in files)


def glob(url: Url) -> list[str]:
    """The paths matching a pattern, sorted: absolute local paths, or URLs for an OBS pattern (the bucket is literal)."""
    import glob as _glob

    target = resolve(url)
    if target.remote:
        if any(c in target.bucket for c in "*?["):
            raise ValueError(f"{target.url!r}: the local moxing globs keys, not bucket names")
        return sorted(target.url_of(found) for found in _glob.glob(target.path))
    return sorted(os.path.abspath(found) for found in _glob.glob(target.path))


def stat(url: Url) -> StatResult:
    target = resolve(url)
    try:
        return StatResult.of(os.stat(target.path))
    except FileNotFoundError:
        raise _missing(target) from None


def get_size(url: Url, recursive: bool = False) -> int:
    """A file's size; a directory's: every file below it (an OBS directory without ``recursive``: its own files only)."""
    target = resolve(url)
    info = stat(target.url)
    if not info.is_directory:
        return info.length
    if target.remote and not recursive:
        with os.scandir(target.path) as entries:
            return sum(entry.stat().st_size for entry in entries if entry.is_file())
    return sum(os.path.getsize(os.path.join(target.path, name)) for name in _relative_files(target.path))


def walk(url: Url, topdown: bool = True, onerror: Callable[[OSError], object] | None = None,
         followlinks: bool = False) -> Iterator[tuple[str, list[str], list[str]]]:
    """As ``os.walk`` (prune ``dirs`` in place when ``topdown``); over OBS the tops are URLs and the names sorted."""
    target = resolve(url)

    def steps() -> Iterator[tuple[str, list[str], list[str]]]:
        for root, dirs, files in os.walk(target.path, topdown, onerror, followlinks):
            if target.remote:
                dirs.sort()
                files.sort()
            yield target.url_of(root), dirs, files

    return steps()


def scan_dir(url: Url) -> Any:
    """As ``os.scandir``: an iterator of entries, usable in ``with``; over OBS the entries' ``path`` are URLs."""
    target = _existing(url)
    return ObsScanDir(target) if target.remote else os.scandir(target.path)


def remove(url: Url, recursive: bool = False) -> None:
    """OBS: a file goes (``recursive`` or not); a directory goes only with ``recursive``; a missing key, or a file named
    with a trailing ``/``, is nothing to do. A local path: ``os.remove``, or ``shutil.rmtree`` of a directory with ``recursive``."""
    import shutil

    target = resolve(url)
    path = target.path
    if target.remote:
        if os.path.isdir(path):
            if recursive and target.is_bucket:  # a bucket stays; its objects go
                for name in os.listdir(path):
                    child = os.path.join(path, name)
                    if os.path.isdir(child) and not os.path.islink(child):
                        shutil.rmtree(child)
                    else:
                        os.remove(child)
            elif recursive:
                shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        return
    if not os.path.lexists(path):
        raise _missing(target)
    if recursive and os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def rename(src_url: Url, dst_url: Url) -> None:
    """Move a file or directory, between OBS and local paths in any direction (an existing destination file is replaced)."""
    import shutil

    src, dst = _existing(src_url), resolve(dst_url)
    if dst.remote:
        make_parent(dst.path)
    try:
        os.replace(src.path, dst.path)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        if os.path.isdir(src.path):
            shutil.copytree(src.path, dst.path, dirs_exist_ok=True)
            shutil.rmtree(src.path)
        else:
            shutil.copyfile(src.path, dst.path)
            os.remove(src.path)


def read(url: Url, binary: bool = False) -> Any:
    """The whole content: str (utf-8), or bytes with ``binary``."""
    with File(url, "rb" if binary else "r") as f:
        return f.read()


def _put(url: Url, data: str | bytes, mode: str) -> None:
    with open_target(resolve(url), mode) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else bytes(data))


def write(url: Url, data: str | bytes, binary: bool = False) -> None:
    """Overwrite with ``data`` (str as utf-8, or bytes); writing to OBS makes the folders of the key."""
    _put(url, data, "wb")


def append(url: Url, data: str | bytes, binary: bool = False) -> None:
    _put(url, data, "ab")


def copy(src_url: Url, dst_url: Url, client_id: object = None) -> None:
    """One file to a file path (made with its folders); a directory is for ``copy_parallel``."""
    import shutil

    src, dst = _existing(src_url), resolve(dst_url)
    if os.path.isdir(src.path):
        raise IsADirectoryError(errno.EISDIR, f"mox.file.copy copies a single file, and {src.url} is a directory: "
                                "use mox.file.copy_parallel to copy a directory", src.url)
    if os.path.isdir(dst.path):
        raise IsADirectoryError(errno.EISDIR, f"mox.file.copy: the destination {dst.url} is a directory; give the file's own path", dst.url)
    make_parent(dst.path)
    shutil.copyfile(src.path, dst.path)


def copy_parallel(src_url: Url, dst_url: Url, file_list: Iterable[str] | None = None, threads: int = 16,
                  is_processing: bool = False, use_queue: bool = False) -> None:
    """A directory into a directory, merging (as ``shutil.copytree(dirs_exist_ok=True)``); ``file_list``: only these
    paths relative to ``src_url``. Nothing is copied when a file and a directory of one name would meet."""
    src, dst = _existing(src_url), resolve(dst_url)
    if not os.path.isdir(src.path):
        raise NotADirectoryError(errno.ENOTDIR, f"mox.file.copy_parallel copies a directory, and {src.url} is a file: "
                                 "use mox.file.copy to copy a file", src.url)
    dirs, files = _plan(src, file_list)
    for rel in ["", *dirs]:
        there = os.path.join(dst.path, rel) if rel else dst.path
        if os.path.lexists(there) and not os.path.isdir(there):
            raise _duplicate(dst, rel, "a directory of the source", "a file")
    for rel in files:
        if os.path.isdir(os.path.join(dst.path, rel)):
            raise _duplicate(dst, rel, "a file of the source", "a directory")
    for rel in ["", *dirs]:
        os.makedirs(os.path.join(dst.path, rel) if rel else dst.path, exist_ok=True)
    _copy_files([(os.path.join(src.path, rel), os.path.join(dst.path, rel)) for rel in files], threads)


def _duplicate(dst: Target, rel: str, what: str, there: str) -> MoxFileNameDuplicateException:
    name = dst.url_of(os.path.join(dst.path, rel)) if rel else dst.url
    return MoxFileNameDuplicateException(errno.EEXIST, f"mox.file.copy_parallel: {what} would be {name}, which is {there}", name)


def _plan(src: Target, file_list: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """The directories and files to copy, as paths relative to ``src``: every one below it, or those of ``file_list``."""
    dirs: set[str] = set()
    files: list[str] = []
    if file_list is None:
        tops = [""]
    else:
        tops = []
        for entry in [file_list] if isinstance(file_list, str) else file_list:
            parts = [part for part in str(entry).replace(os.sep, "/").split("/") if part not in ("", ".")]
            if not parts or ".." in parts:
                raise ValueError(f"mox.file.copy_parallel: {entry!r} in file_list is not a path below {src.url}")
            rel = os.path.join(*parts)
            if not os.path.lexists(os.path.join(src.path, rel)):
                raise _missing(Target(src.url_of(os.path.join(src.path, rel)), ""))
            dirs.update(os.path.join(*parts[:i]) for i in range(1, len(parts)))
            tops.append(rel)
    for top in tops:
        path = os.path.join(src.path, top) if top else src.path
        if not os.path.isdir(path):
            files.append(top)
            continue
        if top:
            dirs.add(top)
        for root, subdirs, names in os.walk(path, followlinks=True):
            rel = os.path.relpath(root, src.path)
            dirs.update(os.path.normpath(os.path.join(rel, d)) for d in subdirs)
            files.extend(os.path.normpath(os.path.join(rel, n)) for n in names)
    return sorted(dirs), sorted(set(files))


def _copy_files(pairs: list[tuple[str, str]], threads: int) -> None:
    import shutil

    if threads <= 1 or len(pairs) < 2:
        for src, dst in pairs:
            shutil.copyfile(src, dst)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(threads, len(pairs))) as pool:
        for done in [pool.submit(shutil.copyfile, src, dst) for src, dst in pairs]:
            done.result()


def set_auth(ak: str | None = None, sk: str | None = None, server: str | None = None, port: int | None = None,
             is_secure: bool | None = None, ssl_verify: bool | None = None, long_conn_mode: bool | None = None,
             path_style: bool | None = None, retry: int | None = None, retry_wait: float | None = None,
             client_timeout: float | None = None, list_max_keys: int | None = None, **kwargs: object) -> None:
    """Accepted and ignored: the local OBS needs no credentials."""
