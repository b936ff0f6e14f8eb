"""``Location``: where code, data, outputs or logs are, a local path or an object-store URL, parsed once.

A location is written as the user wrote it (``"data/"``, ``"file:///tmp/x"``, ``"obs://bucket/key/"``) and
is still that string (``Location`` is a ``str``), so messages and records show what the user gave. What it
means is parsed once, when it is made:

* ``obs://`` and ``s3://`` URLs are remote: ``bucket`` and ``key`` tell where;
* ``file://`` URLs and plain paths are local: ``path`` is the expanded :class:`~pathlib.Path`;
* any other ``scheme://`` is kept as remote with its scheme, for the caller to refuse with its own message.
"""

from __future__ import annotations

import os
from pathlib import Path

OBJECT_SCHEMES = ("obs", "s3")


class Location(str):
    """A local path or a URL; the string as given, with what it means parsed once."""

    scheme: str  # "" for a local path or file:// URL
    _path: Path | None

    def __new__(cls, value: str | os.PathLike[str]) -> Location:
        if isinstance(value, Location):
            return value
        text = os.fspath(value)
        self = super().__new__(cls, text)
        if "://" in text and not text.startswith("file://"):
            self.scheme = text.split("://", 1)[0].lower()
            self._path = None
        else:
            self.scheme = ""
            self._path = Path(text.removeprefix("file://")).expanduser()
        return self

    def __reduce__(self) -> tuple[type[Location], tuple[str]]:  # pickles (xdist) as the text it was made from
        return (Location, (str(self),))

    @property
    def is_remote(self) -> bool:
        return self._path is None

    @property
    def is_local(self) -> bool:
        return self._path is not None

    @property
    def is_object_store(self) -> bool:
        """An ``obs://`` or ``s3://`` URL."""
        return self.scheme in OBJECT_SCHEMES

    @property
    def path(self) -> Path:
        """The local path (``file://`` removed, ``~`` expanded); a remote location has none."""
        if self._path is None:
            raise ValueError(f"{str(self)!r} is a {self.scheme}:// URL, not a local path")
        return self._path

    @property
    def bucket(self) -> str:
        """``obs://bucket/a/b`` -> ``bucket``."""
        return self._split()[0]

    @property
    def key(self) -> str:
        """``obs://bucket/a/b`` -> ``a/b``."""
        return self._split()[1]

    @property
    def name(self) -> str:
        """The last path segment (``obs://b/x/code/`` -> ``code``), as ModelArts names a downloaded code dir."""
        if self._path is not None:
            return self._path.name
        return self.split("://", 1)[1].rstrip("/").rsplit("/", 1)[-1]

    def _split(self) -> tuple[str, str]:
        if self._path is not None:
            raise ValueError(f"{str(self)!r} is a local path, not an object-store URL")
        bucket, _, key = self.split("://", 1)[1].partition("/")
        return bucket, key
