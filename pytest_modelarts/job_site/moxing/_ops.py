"""The functions of ``mox.file`` over local paths and the local OBS (see docs/moxing.md for each one's behaviour)."""

from __future__ import absolute_import

import errno
import os

from ._compat import IsADirectoryError_, NotADirectoryError_, makedirs, oserror, replace
from ._local import MoxFileNameDuplicateException, MoxFileNotExistsException, MoxLocalObsException, Target, resolve
from ._objects import File, ObsScanDir, StatResult, make_parent, open_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Iterator, List, Optional, Set, Tuple, Union

    Url = Union[str, "os.PathLike[str]"]


def _missing(target):
    # type: (Target) -> MoxFileNotExistsException
    return MoxFileNotExistsException(errno.ENOENT, "no such file or directory: %s" % target.url, target.url)


def _existing(url):
    # type: (Url) -> Target
    target = resolve(url)
    if not os.path.lexists(target.path):
        raise _missing(target)
    return target


def _answer_false_for_an_unknown_bucket(url):
    # type: (Url) -> Optional[Target]
    """The target, or None when its bucket is not in the local OBS: OBS answers "no" there, it raises nothing."""
    try:
        return resolve(url)
    except MoxLocalObsException as error:
        if not error.unknown_bucket:
            raise
    return None


def exists(url):
    # type: (Url) -> bool
    """Whether the path or URL is there; a bucket the local OBS does not have is not (False, as OBS answers)."""
    target = _answer_false_for_an_unknown_bucket(url)
    return target is not None and os.path.exists(target.path)


def is_directory(url):
    # type: (Url) -> bool
    target = _answer_false_for_an_unknown_bucket(url)
    return target is not None and os.path.isdir(target.path)


def make_dirs(url):
    # type: (Url) -> None
    makedirs(resolve(url).path)


def mk_dir(url):
    # type: (Url) -> None
    target = resolve(url)
    if os.path.isdir(target.path):
        return
    parentless = False
    try:
        os.mkdir(target.path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            raise
        parentless = True
    if parentless:
        raise MoxFileNotExistsException(errno.ENOENT, "the parent directory of %s does not exist" % target.url, target.url)


def list_directory(url, recursive=False, remove_sep=False, skip_file=False, skip_dir=False):
    # type: (Url, bool, bool, bool, bool) -> List[str]
    """The names in a directory, sorted; ``recursive``: the ``/``-separated paths of every directory and file below it,
    relative to it (Huawei's sample: ``['dir0', 'dir0/file00', 'file1']``); ``skip_file``/``skip_dir`` leave those out.
    ``remove_sep`` changes nothing here: no name listed ends with a separator."""
    target = _existing(url)
    if not os.path.isdir(target.path):
        return [] if skip_file else [os.path.basename(target.path.rstrip("/"))]
    found = []  # type: List[str]
    for rel, is_dir in _entries(target.path, recursive):
        if not (skip_dir if is_dir else skip_file):
            found.append(rel)
    return sorted(found)


def _entries(top, recursive):
    # type: (str, bool) -> Iterator[Tuple[str, bool]]
    """(relative ``/``-separated path, is a directory) of what is in ``top``, below it too when ``recursive``."""
    if not recursive:
        for name in os.listdir(top):
            yield name, os.path.isdir(os.path.join(top, name))
        return
    for root, dirs, files in os.walk(top, followlinks=True):
        rel = os.path.relpath(root, top).replace(os.sep, "/")
        for names, is_dir in ((dirs, True), (files, False)):
            for name in names:
                yield (name if rel == "." else rel + "/" + name), is_dir


def _relative_files(top):
    # type: (str) -> List[str]
    return [rel for rel, is_dir in _entries(top, True) if not is_dir]


def glob(url):
    # type: (Url) -> List[str]
    """The paths matching a pattern, sorted: absolute local paths, or URLs for an OBS pattern (the bucket is literal)."""
    import glob as _glob

    target = resolve(url)
    if target.remote:
        if any(c in target.bucket for c in "*?["):
            raise ValueError("%r: the local moxing globs keys, not bucket names" % target.url)
        return sorted(target.url_of(found) for found in _glob.glob(target.path))
    return sorted(os.path.abspath(found) for found in _glob.glob(target.path))


def stat(url):
    # type: (Url) -> StatResult
    target = resolve(url)
    if not os.path.exists(target.path):
        raise _missing(target)
    return StatResult.of(os.stat(target.path))


def get_size(url, recursive=False):
    # type: (Url, bool) -> int
    """A file's size; a directory's: every file below it (an OBS directory without ``recursive``: its own files only)."""
    target = resolve(url)
    info = stat(target.url)
    if not info.is_directory:
        return info.length
    if target.remote and not recursive:
        return sum(os.path.getsize(os.path.join(target.path, name)) for name in os.listdir(target.path)
                   if os.path.isfile(os.path.join(target.path, name)))
    return sum(os.path.getsize(os.path.join(target.path, name)) for name in _relative_files(target.path))


def walk(url, topdown=True, onerror=None, followlinks=False):
    # type: (Url, bool, Optional[Callable[[OSError], object]], bool) -> Iterator[Tuple[str, List[str], List[str]]]
    """As ``os.walk`` (prune ``dirs`` in place when ``topdown``); over OBS the tops are URLs and the names sorted."""
    target = resolve(url)

    def steps():
        # type: () -> Iterator[Tuple[str, List[str], List[str]]]
        for root, dirs, files in os.walk(target.path, topdown, onerror, followlinks):
            if target.remote:
                dirs.sort()
                files.sort()
            yield target.url_of(root), dirs, files

    return steps()


def scan_dir(url):
    # type: (Url) -> Any
    """As ``os.scandir`` (Python 3 only, as MoXing's is): an iterator of entries usable in ``with``; over OBS the
    entries' ``path`` are URLs."""
    if not hasattr(os, "scandir"):
        raise NotImplementedError("mox.file.scan_dir needs Python 3 (os.scandir), as MoXing's does: use mox.file.list_directory")
    target = _existing(url)
    return ObsScanDir(target) if target.remote else os.scandir(target.path)


def remove(url, recursive=False):
    # type: (Url, bool) -> None
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
    elif os.path.isdir(path) and not os.path.islink(path):
        raise oserror(IsADirectoryError_, errno.EISDIR, "mox.file.remove: %s is a directory: give recursive=True" % target.url,
                      target.url)
    else:
        os.remove(path)


def rename(src_url, dst_url):
    # type: (Url, Url) -> None
    """Move a file or directory, between OBS and local paths in any direction (an existing destination file is replaced)."""
    import shutil

    src, dst = _existing(src_url), resolve(dst_url)
    if dst.remote:
        make_parent(dst.path)
    across = False
    try:
        replace(src.path, dst.path)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        across = True
    if not across:
        return
    if os.path.isdir(src.path):
        dirs, files = _plan(src, None)
        _copy_tree(src.path, dst.path, dirs, files, 1)
        shutil.rmtree(src.path)
    else:
        shutil.copyfile(src.path, dst.path)
        os.remove(src.path)


def read(url, client_id=None, binary=False):
    # type: (Url, object, bool) -> Any
    """The whole content: str (utf-8; 2.7: its native str), or bytes with ``binary``."""
    with File(url, "rb" if binary else "r") as f:
        return f.read()


def _put(url, data, mode):
    # type: (Url, Any, str) -> None
    from ._compat import text_type

    with open_target(resolve(url), mode) as f:
        f.write(data.encode("utf-8") if isinstance(data, text_type) else bytes(data))


def write(url, data, binary=False):
    # type: (Url, Any, bool) -> None
    """Overwrite with ``data`` (str as utf-8, or bytes); writing to OBS makes the folders of the key."""
    _put(url, data, "wb")


def append(url, data, binary=False):
    # type: (Url, Any, bool) -> None
    _put(url, data, "ab")


def copy(src_url, dst_url, client_id=None):
    # type: (Url, Url, object) -> None
    """One file to a file path (made with its folders); a directory is for ``copy_parallel``."""
    import shutil

    src, dst = _existing(src_url), resolve(dst_url)
    if os.path.isdir(src.path):
        raise oserror(IsADirectoryError_, errno.EISDIR, "mox.file.copy copies a single file, and %s is a directory: "
                      "use mox.file.copy_parallel to copy a directory" % src.url, src.url)
    if os.path.isdir(dst.path):
        raise oserror(IsADirectoryError_, errno.EISDIR, "mox.file.copy: the destination %s is a directory; give the file's "
                      "own path" % dst.url, dst.url)
    make_parent(dst.path)
    shutil.copyfile(src.path, dst.path)


def copy_parallel(src_url, dst_url, file_list=None, threads=16, is_processing=False, use_queue=False):
    # type: (Url, Url, Optional[Iterable[str]], int, bool, bool) -> None
    """A directory into a directory, merging (as ``shutil.copytree(dirs_exist_ok=True)``); ``file_list``: only these
    paths relative to ``src_url``. Nothing is copied when a file and a directory of one name would meet."""
    src, dst = _existing(src_url), resolve(dst_url)
    if not os.path.isdir(src.path):
        raise oserror(NotADirectoryError_, errno.ENOTDIR, "mox.file.copy_parallel copies a directory, and %s is a file: "
                      "use mox.file.copy to copy a file" % src.url, src.url)
    dirs, files = _plan(src, file_list)
    for rel in [""] + dirs:
        there = os.path.join(dst.path, rel) if rel else dst.path
        if os.path.lexists(there) and not os.path.isdir(there):
            raise _duplicate(dst, rel, "a directory of the source", "a file")
    for rel in files:
        if os.path.isdir(os.path.join(dst.path, rel)):
            raise _duplicate(dst, rel, "a file of the source", "a directory")
    _copy_tree(src.path, dst.path, dirs, files, threads)


def _copy_tree(src, dst, dirs, files, threads):
    # type: (str, str, List[str], List[str], int) -> None
    for rel in [""] + dirs:
        makedirs(os.path.join(dst, rel) if rel else dst)
    _copy_files([(os.path.join(src, rel), os.path.join(dst, rel)) for rel in files], threads)


def _duplicate(dst, rel, what, there):
    # type: (Target, str, str, str) -> MoxFileNameDuplicateException
    name = dst.url_of(os.path.join(dst.path, rel)) if rel else dst.url
    return MoxFileNameDuplicateException(errno.EEXIST, "mox.file.copy_parallel: %s would be %s, which is %s" % (what, name, there), name)


def _plan(src, file_list):
    # type: (Target, Optional[Iterable[str]]) -> Tuple[List[str], List[str]]
    """The directories and files to copy, as paths relative to ``src``: every one below it, or those of ``file_list``."""
    from ._compat import string_types

    dirs = set()  # type: Set[str]
    files = []  # type: List[str]
    if file_list is None:
        tops = [""]
    else:
        tops = []
        for entry in [file_list] if isinstance(file_list, string_types) else file_list:
            parts = [part for part in str(entry).replace(os.sep, "/").split("/") if part not in ("", ".")]
            if not parts or ".." in parts:
                raise ValueError("mox.file.copy_parallel: %r in file_list is not a path below %s" % (entry, src.url))
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


def _copy_files(pairs, threads):
    # type: (List[Tuple[str, str]], int) -> None
    """Copy each (src, dst) pair, in ``threads`` threads (plain threads: 2.7 has no concurrent.futures)."""
    import shutil

    if threads <= 1 or len(pairs) < 2:
        for src, dst in pairs:
            shutil.copyfile(src, dst)
        return
    import threading

    todo = list(reversed(pairs))
    errors = []  # type: List[BaseException]
    lock = threading.Lock()

    def work():
        # type: () -> None
        while True:
            with lock:
                if not todo or errors:
                    return
                src, dst = todo.pop()
            try:
                shutil.copyfile(src, dst)
            except BaseException as error:  # handed to the caller's thread below
                with lock:
                    errors.append(error)
                return

    workers = [threading.Thread(target=work) for _ in range(min(threads, len(pairs)))]
    for worker in workers:
        worker.daemon = True
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]


def set_auth(ak=None, sk=None, server=None, port=None, is_secure=None, ssl_verify=None, long_conn_mode=None,
             path_style=None, retry=None, retry_wait=None, client_timeout=None, list_max_keys=None, **kwargs):
    # type: (Optional[str], Optional[str], Optional[str], Optional[int], Optional[bool], Optional[bool], Optional[bool], Optional[bool], Optional[int], Optional[float], Optional[float], Optional[int], object) -> None
    """Accepted and ignored: the local OBS needs no credentials."""
