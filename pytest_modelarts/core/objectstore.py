"""A local OBS: buckets as local folders, so that ``obs://`` and ``s3://`` URLs mean something on this machine.

The mapping serves local jobs (moxing inside the job resolves ``obs://bucket/key`` through it; v1 jobs get their
``--data_url``/``--train_url`` as URLs into it) and smoke runs of ``online_*`` locations
(``online_inputs="obs://my-bucket/digits/"`` can be run as is). The emulator's OBS (``emulator/obs.py``) keeps its
own code, with its own checks, but the same layout, a folder per bucket, so one root folder can feed both
(``tests/online/test_one_obs.py``).

Given as ``Session(obs_root=...)``, the ini option ``modelarts_obs_root`` or the marker's ``obs_root``:

* a folder: every bucket is a folder below it (``./obs`` -> ``obs://my-bucket/x`` is ``./obs/my-bucket/x``);
* a mapping of bucket names to folders (``{"my-bucket": "./data/bucket"}``): only those buckets exist.

Inside a job the mapping travels as the variable :data:`ENV_VARIABLE` (JSON), with the folders as the job sees
them, for the job's ``moxing`` (``pytest_modelarts/job_site/moxing``, standard library only).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParameterError
from .location import Location
from .pathcheck import check_path

ENV_VARIABLE = "PYTEST_MODELARTS_LOCAL_OBS"
#: OBS bucket names: 3-63 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class LocalObs:
    """Buckets as folders: either every folder below ``root``, or exactly the ``buckets`` given (or both)."""

    root: Path | None = None
    buckets: Mapping[str, Path] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: object, *, base: Path | None = None, owner: str = "Session", parameter: str = "obs_root") -> LocalObs | None:
        """None, a folder, or ``{bucket: folder}``; relative folders are taken from ``base`` (default: the cwd)."""
        if value is None or isinstance(value, LocalObs):
            return value
        where = base or Path.cwd()

        def folder(text: object) -> Path:
            if not isinstance(text, (str, os.PathLike)) or not os.fspath(text).strip():
                raise ParameterError(owner, parameter, value, "must be a folder, or a mapping of bucket names to folders")
            if "://" in os.fspath(text):
                raise ParameterError(owner, parameter, value, "must be a local folder (the local OBS's buckets are its "
                                     "sub-folders), not a URL: obs:// URLs are what jobs are given, not where they live")
            check_path(owner, parameter, text, written=True, folder=False)  # a file in the way: see rules._local_obs
            path = Path(os.fspath(text)).expanduser()
            return (path if path.is_absolute() else where / path).resolve()

        if isinstance(value, Mapping):
            buckets = {}
            for name, target in value.items():
                if not isinstance(name, str) or not BUCKET_NAME.fullmatch(name):
                    raise ParameterError(owner, parameter, value, f"bucket {name!r}: must be 3-63 of a-z, 0-9, '-', '.'")
                buckets[name] = folder(target)
            return cls(buckets=buckets)
        return cls(root=folder(value))

    def bucket_dir(self, bucket: str) -> Path | None:
        """The folder of ``bucket``, or None when this local OBS has no such bucket."""
        if bucket in self.buckets:
            return self.buckets[bucket]
        if self.root is not None and BUCKET_NAME.fullmatch(bucket):
            return self.root / bucket
        return None

    def resolve(self, url: str) -> Path:
        """The local path of an ``obs://``/``s3://`` URL; :class:`ValueError` naming the bucket when it is unknown."""
        where = Location(url)
        if not where.is_object_store:
            raise ValueError(f"{url!r} is not an obs:// or s3:// URL")
        folder = self.bucket_dir(where.bucket)
        if folder is None:
            known = ", ".join(sorted(self.buckets)) or "none"
            raise ValueError(f"bucket {where.bucket!r} of {url!r} is not in the local OBS (buckets: {known}"
                             + (f"; or any folder below {self.root}" if self.root else "") + ")")
        return folder / where.key if where.key else folder

    def folders(self) -> list[Path]:
        """Every folder the local OBS may read or write (for a sandbox to bind)."""
        return [*([self.root] if self.root is not None else []), *self.buckets.values()]

    def with_buckets(self, extra: Mapping[str, Path]) -> LocalObs:
        return LocalObs(root=self.root, buckets={**self.buckets, **extra})

    def to_env(self, translate: Mapping[Path, str] | None = None) -> str:
        """The JSON a job's moxing reads: ``{"root": ..., "buckets": {...}}``, paths as the job sees them."""
        def seen(path: Path) -> str:
            for host, inside in (translate or {}).items():
                if path == host or host in path.parents:
                    return inside + str(path)[len(str(host)):]
            return str(path)

        return json.dumps({"root": seen(self.root) if self.root else None,
                           "buckets": {name: seen(path) for name, path in self.buckets.items()}}, sort_keys=True)
