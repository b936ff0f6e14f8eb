"""``mox.file.shift('os', 'mox')``: the standard calls below take ``obs://``/``s3://`` URLs too; ``shift('mox', 'os')`` undoes it.

Each patched call hands a URL to moxing and anything else to the original, unchanged. Only the module attributes are
patched: a name bound before the shift (``from os import listdir``) keeps the original.
"""

from __future__ import annotations

import builtins
import os

from . import _ops
from ._local import is_remote, resolve
from ._objects import make_parent, open_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_originals: dict[tuple[object, str], Any] = {}


def _local(url: Any) -> Any:
    return resolve(url).path if is_remote(url) else url


def _open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    original = _originals[(builtins, "open")]
    if not is_remote(file):
        return original(file, mode, *args, **kwargs)
    if args or kwargs:
        target = resolve(file)
        if target.remote and mode[:1] in "wax":
            make_parent(target.path)
        return original(target.path, mode, *args, **kwargs)
    return open_target(resolve(file), mode)


def _on_path(module: object, name: str) -> Callable[..., Any]:
    """The original, with an OBS URL as its first argument turned into the local path."""
    original = _originals[(module, name)]

    def patched(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
        return original(_local(path), *args, **kwargs)

    return patched


def _routed(module: object, name: str, mox: Callable[..., Any], urls: int = 1) -> Callable[..., Any]:
    """``mox`` when one of the first ``urls`` arguments is an OBS URL, else the original."""
    original = _originals[(module, name)]

    def patched(*args: Any, **kwargs: Any) -> Any:
        chosen = mox if any(is_remote(a) for a in args[:urls]) else original
        return chosen(*args, **kwargs)

    return patched


def _patches() -> list[tuple[object, str, Callable[[], Callable[..., Any]]]]:
    import glob
    import shutil

    def copy_into(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:  # shutil.copy: into a directory
        if _ops.is_directory(dst):
            dst = dst.rstrip("/") + "/" + os.path.basename(str(src).rstrip("/"))
        _ops.copy(src, dst)
        return dst

    def copytree(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        _ops.copy_parallel(src, dst)
        return dst

    return [
        (builtins, "open", lambda: _open),
        (os, "listdir", lambda: _routed(os, "listdir", _ops.list_directory)),
        (os, "scandir", lambda: _routed(os, "scandir", _ops.scan_dir)),
        (os, "walk", lambda: _routed(os, "walk", _ops.walk)),
        (os, "rename", lambda: _routed(os, "rename", _ops.rename, urls=2)),
        (os, "replace", lambda: _routed(os, "replace", _ops.rename, urls=2)),
        *[(os, name, lambda name=name: _on_path(os, name)) for name in ("makedirs", "mkdir", "remove", "unlink", "rmdir", "stat")],
        *[(os.path, name, lambda name=name: _on_path(os.path, name)) for name in ("exists", "isdir", "isfile", "getsize", "getmtime")],
        (glob, "glob", lambda: _routed(glob, "glob", _ops.glob)),
        (shutil, "copyfile", lambda: _routed(shutil, "copyfile", _ops.copy, urls=2)),
        (shutil, "copy", lambda: _routed(shutil, "copy", copy_into, urls=2)),
        (shutil, "copytree", lambda: _routed(shutil, "copytree", copytree, urls=2)),
        (shutil, "rmtree", lambda: _on_path(shutil, "rmtree")),
    ]


#: what docs/moxing.md lists as patched
PATCHED = ("open", "os.listdir", "os.scandir", "os.walk", "os.rename", "os.replace", "os.makedirs", "os.mkdir", "os.remove",
           "os.unlink", "os.rmdir", "os.stat", "os.path.exists", "os.path.isdir", "os.path.isfile", "os.path.getsize",
           "os.path.getmtime", "glob.glob", "shutil.copyfile", "shutil.copy", "shutil.copytree", "shutil.rmtree")


def shift(src: str, dst: str) -> None:
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
        raise ValueError(f"mox.file.shift({src!r}, {dst!r}): the local moxing shifts 'os' to 'mox' and 'mox' back to 'os'")
