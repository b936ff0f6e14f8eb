"""Where a moxing URL lies on this machine, and the exceptions of ``mox.file``.

``obs://bucket/key`` and ``s3://bucket/key`` go through the local OBS the job is given in ``PYTEST_MODELARTS_LOCAL_OBS``
(JSON ``{"root": folder or null, "buckets": {name: folder}}``, written by ``pytest_modelarts.core.objectstore``): a
bucket named in ``buckets`` is that folder, any other one is ``<root>/<bucket>`` when ``root`` is set, else unknown.
``file:///x`` is ``/x``; anything else is a local path as it is. Standard library only, and the syntax of every
Python a ModelArts engine has (2.7, 3.6 and later): this runs inside the job.
"""

from __future__ import absolute_import

import os

from ._compat import FileExistsError_, FileNotFoundError_, fspath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

ENV_VARIABLE = "PYTEST_MODELARTS_LOCAL_OBS"
SCHEMES = ("obs://", "s3://")
HOW_TO_CONFIGURE = ("configure the local OBS with Session(obs_root=...), the ini option modelarts_obs_root, "
                    "or the marker's obs_root (@pytest.mark.modelarts(obs_root=...))")
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


class MoxFileNotExistsException(FileNotFoundError_):
    """The path or URL does not exist (``mox.file.stat`` of a missing object, and the other calls that need one)."""


class MoxFileNameDuplicateException(FileExistsError_):
    """A directory and a file of the same name meet (``mox.file.copy_parallel`` into a tree where the other kind is)."""


class MoxFileRespException(OSError):
    """OBS answered with an error (HTTP status >= 300); locally: the bucket is not in the local OBS."""

    def __init__(self, resp=None, message=None):
        # type: (object, Optional[str]) -> None
        OSError.__init__(self, message if message is not None else "OBS answered %r" % (resp,))
        self.resp = resp


class MoxFileReadException(OSError):
    """Reading an object failed."""

    def __init__(self, resp=None, message=None):
        # type: (object, Optional[str]) -> None
        OSError.__init__(self, message if message is not None else "reading failed: %r" % (resp,))
        self.resp = resp


class MoxLocalObsException(MoxFileRespException):
    """The URL's bucket is not in the job's local OBS, or the local OBS given to the job is malformed."""

    def __init__(self, message, unknown_bucket=False):
        # type: (str, bool) -> None
        MoxFileRespException.__init__(self, None, message)
        self.unknown_bucket = unknown_bucket  # as opposed to a malformed local OBS


class MoxUnsupportedError(AttributeError, NotImplementedError):
    """A MoXing call the local moxing does not provide (``hasattr`` sees it as missing)."""


def unsupported(module, name, supported):
    # type: (str, str, List[str]) -> AttributeError
    """The error for ``module.name`` (``moxing.file``, shown as ``mox.file``), naming the calls that are supported."""
    if name.startswith("_"):
        return AttributeError("module %r has no attribute %r" % (module, name))
    shown = "mox.file" if module.endswith(".file") else "mox"
    return MoxUnsupportedError("%s.%s is not supported by the local moxing of pytest_modelarts; it supports only %s "
                               "(python -m pydoc moxing.file lists them)" % (shown, name, ", ".join(supported)))


def is_remote(url):
    # type: (object) -> bool
    """Whether ``url`` is an ``obs://`` or ``s3://`` URL."""
    try:
        text = fspath(url)
    except TypeError:
        return False
    return text[:6].lower().startswith(SCHEMES)


class Target(object):
    """A URL or path and the local path it means: ``path`` keeps a trailing ``/`` as given (os calls then want a directory)."""

    __slots__ = ("url", "path", "prefix", "bucket", "folder")

    def __init__(self, url, path, prefix="", bucket="", folder=""):
        # type: (str, str, str, str, str) -> None
        self.url = url
        self.path = path
        self.prefix = prefix  # "obs://" or "s3://" as written, "" for a local path
        self.bucket = bucket
        self.folder = folder  # the bucket's folder

    @property
    def remote(self):
        # type: () -> bool
        return bool(self.prefix)

    @property
    def is_bucket(self):
        # type: () -> bool
        return self.remote and os.path.normpath(self.path) == self.folder

    def url_of(self, local):
        # type: (str) -> str
        """``local`` (this target's path or a path below it) as the caller writes it: a URL for an OBS target."""
        if not self.remote:
            return local
        if local == self.path:
            return self.url
        rest = local[len(self.folder):].lstrip(os.sep).replace(os.sep, "/")
        return "%s%s/%s" % (self.prefix, self.bucket, rest) if rest else self.prefix + self.bucket

    def __repr__(self):
        # type: () -> str
        return "Target(%r -> %r)" % (self.url, self.path)


def resolve(url):
    # type: (Any) -> Target
    """The local path of a moxing URL or path; :class:`MoxLocalObsException` naming the bucket when it is unknown."""
    text = fspath(url)
    head = text[:7].lower()
    for scheme in SCHEMES:
        if head.startswith(scheme):
            return _remote(text, text[:len(scheme)], text[len(scheme):])
    if head == "file://":
        return Target(text, text[7:] or "/")
    return Target(text, text)


def _remote(url, prefix, rest):
    # type: (str, str, str) -> Target
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError("%r names no bucket: an OBS URL is %s<bucket>/<key>" % (url, prefix))
    parts = [part for part in key.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError("%r: keys with '..' are not supported by the local moxing (they would leave the bucket)" % url)
    folder = bucket_folder(bucket, url)
    path = os.path.join(folder, *parts) if parts else folder
    return Target(url, path + "/" if parts and key.endswith("/") else path, prefix, bucket, folder)


def valid_bucket_name(name):
    # type: (str) -> bool
    """OBS bucket names: 3-63 of a-z, 0-9, '-' and '.', starting and ending with a letter or digit."""
    return 3 <= len(name) <= 63 and set(name) <= _BUCKET_CHARS and name[0].isalnum() and name[-1].isalnum()


def bucket_folder(bucket, url):
    # type: (str, str) -> str
    root, buckets = local_obs(url)
    if bucket in buckets:
        return buckets[bucket]
    if root is not None and valid_bucket_name(bucket):
        return os.path.join(root, bucket)
    if root is None and not buckets and ENV_VARIABLE not in os.environ:
        where = "no local OBS is given to this job (%s is not set)" % ENV_VARIABLE
    else:
        known = ", ".join(sorted(buckets)) or "none"
        below = "; or any valid bucket name, as a folder below %s" % root if root is not None else ""
        where = "it is not in the job's local OBS (buckets: %s%s)" % (known, below)
    raise MoxLocalObsException("bucket %r of %r is unknown: %s; %s" % (bucket, url, where, HOW_TO_CONFIGURE),
                               unknown_bucket=True)


_cache = []  # type: List[Tuple[str, Tuple[Optional[str], Dict[str, str]]]]


def local_obs(url):
    # type: (str) -> Tuple[Optional[str], Dict[str, str]]
    """The job's local OBS: (root folder or None, {bucket: folder}), read from the environment (cached per value)."""
    text = os.environ.get(ENV_VARIABLE, "")
    if _cache and _cache[0][0] == text:
        return _cache[0][1]
    parsed = _parse(text, url) if text.strip() else (None, {})  # type: Tuple[Optional[str], Dict[str, str]]
    _cache[:] = [(text, parsed)]
    return parsed


def _parse(text, url):
    # type: (str, str) -> Tuple[Optional[str], Dict[str, str]]
    import json

    def bad(why):
        # type: (str) -> MoxLocalObsException
        return MoxLocalObsException("%r: the local OBS given to this job in %s is malformed (%s): %r; expected JSON "
                                    "{\"root\": folder or null, \"buckets\": {name: folder}}; %s"
                                    % (url, ENV_VARIABLE, why, text, HOW_TO_CONFIGURE))

    failure = None
    try:
        value = json.loads(text)  # type: Any
    except ValueError as error:
        failure = str(error)  # raised below, outside the handler: the JSON error is in the message already
    if failure is not None:
        raise bad(failure)
    if not isinstance(value, dict):
        raise bad("not a JSON object")
    root, buckets = value.get("root"), value.get("buckets") or {}
    if not (root is None or (_is_text(root) and root)):
        raise bad("'root' must be a folder or null")
    if not isinstance(buckets, dict) or not all(_is_text(k) and _is_text(v) and v for k, v in buckets.items()):
        raise bad("'buckets' must map bucket names to folders")
    return (os.path.abspath(root) if root else None), dict((k, os.path.abspath(v)) for k, v in buckets.items())


def _is_text(value):
    # type: (object) -> bool
    from ._compat import string_types

    return isinstance(value, string_types)
