"""Where a moxing URL lies on this machine, and the exceptions of ``mox.file``.

``obs://bucket/key`` and ``s3://bucket/key`` go through the local OBS the job is given in ``PYTEST_MODELARTS_LOCAL_OBS``
(JSON ``{"root": folder or null, "buckets": {name: folder}}``, written by ``pytest_modelarts.core.objectstore``): a
bucket named in ``buckets`` is that folder, any other one is ``<root>/<bucket>`` when ``root`` is set, else unknown.
``file:///x`` is ``/x``; anything else is a local path as it is. Standard library only: this runs inside the job.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_VARIABLE = "PYTEST_MODELARTS_LOCAL_OBS"
SCHEMES = ("obs://", "s3://")
HOW_TO_CONFIGURE = ("configure the local OBS with Session(obs_root=...), the ini option modelarts_obs_root, "
                    "or the marker's obs_root (@pytest.mark.modelarts(obs_root=...))")
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


class MoxFileNotExistsException(FileNotFoundError):
    """The path or URL does not exist (``mox.file.stat`` of a missing object, and the other calls that need one)."""


class MoxFileNameDuplicateException(FileExistsError):
    """A directory and a file of the same name meet (``mox.file.copy_parallel`` into a tree where the other kind is)."""


class MoxFileRespException(OSError):
    """OBS answered with an error (HTTP status >= 300); locally: the bucket is not in the local OBS."""

    def __init__(self, resp: object = None, message: str | None = None) -> None:
        super().__init__(message if message is not None else f"OBS answered {resp!r}")
        self.resp = resp


class MoxFileReadException(OSError):
    """Reading an object failed."""

    def __init__(self, resp: object = None, message: str | None = None) -> None:
        super().__init__(message if message is not None else f"reading failed: {resp!r}")
        self.resp = resp


class MoxLocalObsException(MoxFileRespException):
    """The URL's bucket is not in the job's local OBS, or the local OBS given to the job is malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class MoxUnsupportedError(AttributeError, NotImplementedError):
    """A MoXing call the local moxing does not provide (``hasattr`` sees it as missing)."""


def unsupported(module: str, name: str, supported: list[str]) -> AttributeError:
    """The error for ``module.name`` (``moxing.file``, shown as ``mox.file``), naming the calls that are supported."""
    if name.startswith("_"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    shown = "mox.file" if module.endswith(".file") else "mox"
    return MoxUnsupportedError(f"{shown}.{name} is not supported by the local moxing of pytest_modelarts; it supports only "
                               f"{', '.join(supported)} (python -m pydoc moxing.file lists them)")


def is_remote(url: object) -> bool:
    """Whether ``url`` is an ``obs://`` or ``s3://`` URL."""
    return isinstance(url, str) and url[:6].lower().startswith(SCHEMES)


class Target:
    """A URL or path and the local path it means: ``path`` keeps a trailing ``/`` as given (os calls then want a directory)."""

    __slots__ = ("url", "path", "prefix", "bucket", "folder")

    def __init__(self, url: str, path: str, prefix: str = "", bucket: str = "", folder: str = "") -> None:
        self.url = url
        self.path = path
        self.prefix = prefix  # "obs://" or "s3://" as written, "" for a local path
        self.bucket = bucket
        self.folder = folder  # the bucket's folder

    @property
    def remote(self) -> bool:
        return bool(self.prefix)

    @property
    def is_bucket(self) -> bool:
        return self.remote and os.path.normpath(self.path) == self.folder

    def url_of(self, local: str) -> str:
        """``local`` (this target's path or a path below it) as the caller writes it: a URL for an OBS target."""
        if not self.remote:
            return local
        if local == self.path:
            return self.url
        rest = local[len(self.folder):].lstrip(os.sep).replace(os.sep, "/")
        return f"{self.prefix}{self.bucket}/{rest}" if rest else f"{self.prefix}{self.bucket}"

    def __repr__(self) -> str:
        return f"Target({self.url!r} -> {self.path!r})"


def resolve(url: str | os.PathLike[str]) -> Target:
    """The local path of a moxing URL or path; :class:`MoxLocalObsException` naming the bucket when it is unknown."""
    text = os.fspath(url)
    if not isinstance(text, str):
        raise TypeError(f"moxing takes str paths and URLs, not {type(text).__name__}: {text!r}")
    head = text[:7].lower()
    for scheme in SCHEMES:
        if head.startswith(scheme):
            return _remote(text, text[:len(scheme)], text[len(scheme):])
    if head == "file://":
        return Target(text, text[7:] or "/")
    return Target(text, text)


def _remote(url: str, prefix: str, rest: str) -> Target:
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket: an OBS URL is {prefix}<bucket>/<key>")
    parts = [part for part in key.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{url!r}: keys with '..' are not supported by the local moxing (they would leave the bucket)")
    folder = bucket_folder(bucket, url)
    path = os.path.join(folder, *parts) if parts else folder
    return Target(url, path + "/" if parts and key.endswith("/") else path, prefix, bucket, folder)


def valid_bucket_name(name: str) -> bool:
    """OBS bucket names: 3-63 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit."""
    return 3 <= len(name) <= 63 and set(name) <= _BUCKET_CHARS and name[0].isalnum() and name[-1].isalnum()


def bucket_folder(bucket: str, url: str) -> str:
    root, buckets = local_obs(url)
    if bucket in buckets:
        return buckets[bucket]
    if root is not None and valid_bucket_name(bucket):
        return os.path.join(root, bucket)
    if root is None and not buckets and ENV_VARIABLE not in os.environ:
        where = f"no local OBS is given to this job ({ENV_VARIABLE} is not set)"
    else:
        known = ", ".join(sorted(buckets)) or "none"
        where = (f"it is not in the job's local OBS (buckets: {known}"
                 + (f"; or any valid bucket name, as a folder below {root}" if root is not None else "") + ")")
    raise MoxLocalObsException(f"bucket {bucket!r} of {url!r} is unknown: {where}; {HOW_TO_CONFIGURE}")


_cache: list[tuple[str, tuple[str | None, dict[str, str]]]] = []


def local_obs(url: str) -> tuple[str | None, dict[str, str]]:
    """The job's local OBS: (root folder or None, {bucket: folder}), read from the environment (cached per value)."""
    text = os.environ.get(ENV_VARIABLE, "")
    if _cache and _cache[0][0] == text:
        return _cache[0][1]
    parsed = _parse(text, url) if text.strip() else (None, {})
    _cache[:] = [(text, parsed)]
    return parsed


def _parse(text: str, url: str) -> tuple[str | None, dict[str, str]]:
    import json

    def bad(why: str) -> MoxLocalObsException:
        return MoxLocalObsException(f"{url!r}: the local OBS given to this job in {ENV_VARIABLE} is malformed ({why}): {text!r}; "
                                    f"expected JSON {{\"root\": folder or null, \"buckets\": {{name: folder}}}}; {HOW_TO_CONFIGURE}")

    try:
        value: Any = json.loads(text)
    except ValueError as error:
        raise bad(str(error)) from None
    if not isinstance(value, dict):
        raise bad("not a JSON object")
    root, buckets = value.get("root"), value.get("buckets") or {}
    if not (root is None or (isinstance(root, str) and root)):
        raise bad("'root' must be a folder or null")
    if not isinstance(buckets, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in buckets.items()):
        raise bad("'buckets' must map bucket names to folders")
    return (os.path.abspath(root) if root else None), {name: os.path.abspath(folder) for name, folder in buckets.items()}
