"""``mox.file.shift('os', 'mox')``: the standard calls below take ``obs://``/``s3://`` URLs too; ``shift('mox', 'os')`` undoes it.

Each patched call hands a URL to moxing and anything else to the original, unchanged. Only the module attributes are
patched: a name bound before the shift (``from os import listdir``) keeps the original.
"""

from __future__ import absolute_import

import os

from . import _ops
from ._compat import PY2
from ._local import is_remote, resolve
from ._objects import make_parent, open_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Tuple

if PY2:
    import __builtin__ as builtins  # noqa: F401
else:
    import builtins

_originals = {}  # type: Dict[Tuple[object, str], Any]


def _local(url):
    # type: (Any) -> Any
    return resolve(url).path if is_remote(url) else url


def _open(file, mode="r", *args, **kwargs):
    # type: (Any, str, *Any, **Any) -> Any
    original = _originals[(builtins, "open")]
    if not is_remote(file):
        return original(file, mode, *args, **kwargs)
    if args or kwargs:
        target = resolve(file)
        if target.remote and mode[:1] in "wax":
            make_parent(target.path)
        return original(target.path, mode, *args, **kwargs)
    return open_target(resolve(file), mode)


def _on_path(module, name):
    # type: (object, str) -> Callable[..., Any]
    """The original, with an OBS URL as its first argument turned into the local path."""
    original = _originals[(module, name)]

    def patched(path=".", *args, **kwargs):
        # type: (Any, *Any, **Any) -> Any
        return original(_local(path), *args, **kwargs)

    return patched


def _routed(module, name, mox, urls=1):
    # type: (object, str, Callable[..., Any], int) -> Callable[..., Any]
    """``mox`` when one of the first ``urls`` arguments is an OBS URL, else the original."""
    original = _originals[(module, name)]

    def patched(*args, **kwargs):
        # type: (*Any, **Any) -> Any
        chosen = mox if any(is_remote(a) for a in args[:urls]) else original
        return chosen(*args, **kwargs)

    return patched


def _patches():
    # type: () -> List[Tuple[object, str, Callable[[], Callable[..., Any]]]]
    import glob
    import shutil

    def copy_into(src, dst, *args, **kwargs):
        # type: (Any, Any, *Any, **Any) -> Any
        """shutil.copy: into a directory."""
        if _ops.is_directory(dst):
            dst = dst.rstrip("/") + "/" + os.path.basename(str(src).rstrip("/"))
        _ops.copy(src, dst)
        return dst

    def copytree(src, dst, *args, **kwargs):
        # type: (Any, Any, *Any, **Any) -> Any
        _ops.copy_parallel(src, dst)
        return dst

    def on_path(module, name):
        # type: (object, str) -> Callable[[], Callable[..., Any]]
        return lambda: _on_path(module, name)

    routed = {
        "open": lambda: _open,
        "os.listdir": lambda: _routed(os, "listdir", _ops.list_directory),
        "os.scandir": lambda: _routed(os, "scandir", _ops.scan_dir),
        "os.walk": lambda: _routed(os, "walk", _ops.walk),
        "os.rename": lambda: _routed(os, "rename", _ops.rename, urls=2),
        "os.replace": lambda: _routed(os, "replace", _ops.rename, urls=2),
        "glob.glob": lambda: _routed(glob, "glob", _ops.glob),
        "shutil.copyfile": lambda: _routed(shutil, "copyfile", _ops.copy, urls=2),
        "shutil.copy": lambda: _routed(shutil, "copy", copy_into, urls=2),
        "shutil.copytree": lambda: _routed(shutil, "copytree", copytree, urls=2),
    }  # type: Dict[str, Callable[[], Callable[..., Any]]]
    modules = {"os": os, "os.path": os.path, "glob": glob, "shutil": shutil}  # type: Dict[str, object]
    found = []  # type: List[Tuple[object, str, Callable[[], Callable[..., Any]]]]
    for full in PATCHED:
        where, _, name = full.rpartition(".")
        module = modules[where] if where else builtins
        if hasattr(module, name):  # os.scandir and os.replace: Python 3 only
            found.append((module, name, routed.get(full) or on_path(module, name)))
    return found


#: what docs/moxing.md lists as patched (``os.scandir`` and ``os.replace`` where the Python has them: 3.x)
PATCHED = ("open", "os.listdir", "os.scandir", "os.walk", "os.rename", "os.replace", "os.makedirs", "os.mkdir", "os.remove",
           "os.unlink", "os.rmdir", "os.stat", "os.path.exists", "os.path.isdir", "os.path.isfile", "os.path.getsize",
           "os.path.getmtime", "glob.glob", "shutil.copyfile", "shutil.copy", "shutil.copytree", "shutil.rmtree")


def shift(src, dst):
    # type: (str, str) -> None
    if (src, dst) == ("os", "mox"):
        if _originals:
            return
        patches = _patches()
        for module, name, _ in patches:
            _originals[(module, name)] = getattr(module, name)
        for module, name, make in patches:
            setattr(module, name, make())
    elif (src, dst) == ("mox", "os"):
        for (module, name), original in _originals.items():
            setattr(module, name, original)
        _originals.clear()
    else:
        raise ValueError("mox.file.shift(%r, %r): the local moxing shifts 'os' to 'mox' and 'mox' back to 'os'" % (src, dst))
