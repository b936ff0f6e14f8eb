"""The emulated OBS: buckets and objects as a directory tree ``<root>/<bucket>/<key>``.

Implements the object operations the online backend and the emulated jobs need, in path style
(``/<bucket>/<key>``): create bucket, put / get / head / delete object, list objects (prefix, marker,
max-keys, delimiter). Errors are OBS's XML error documents.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from ..core.location import Location

XML = "application/xml"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def obs_error(status: int, code: str, message: str, resource: str = "") -> Response:
    rid = uuid.uuid4().hex[:24].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{rid}</RequestId><HostId>emulator</HostId></Error>"
    ).encode()
    return Response(status, body, {"Content-Type": XML, "x-amz-request-id": rid, "x-obs-request-id": rid})


class ObsStore:
    """Buckets as directories under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    # -- helpers used by the job runner (server side, no HTTP) --------------------------------------------
    def create_bucket(self, bucket: str) -> None:
        (self.root / bucket).mkdir(parents=True, exist_ok=True)

    def has_bucket(self, bucket: str) -> bool:
        return (self.root / bucket).is_dir()

    def path(self, bucket: str, key: str) -> Path:
        if not bucket or "/" in bucket or bucket in (".", ".."):
            raise ValueError(f"invalid bucket name {bucket!r}")
        parts = [p for p in key.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"invalid object key {key!r}")
        return self.root.joinpath(bucket, *parts)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        base = self.root / bucket
        found = (p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.startswith(".obs-tmp-"))
        return sorted(key for key in found if key.startswith(prefix))

    def download(self, url: str, dest: Path) -> Path:
        """Copy ``obs://bucket/prefix`` (an object, or every object under the prefix) to ``dest``."""
        where = Location(url)
        src = self.path(where.bucket, where.key)
        if src.is_file() and not url.endswith("/"):
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / src.name)
            return dest / src.name
        if not src.is_dir():
            raise FileNotFoundError(url)
        shutil.copytree(src, dest, dirs_exist_ok=True)
        return dest

    def upload(self, src: Path, url: str) -> None:
        """Copy a local file or directory to ``obs://bucket/prefix``."""
        where = Location(url)
        if not self.has_bucket(where.bucket):
            raise FileNotFoundError(f"no bucket {where.bucket!r}")
        target = self.path(where.bucket, where.key)
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        elif src.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)

    # -- HTTP -----------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Response:
        bucket, _, key = map(unquote, path.lstrip("/").partition("/"))
        resource = f"/{bucket}/{key}" if key else f"/{bucket}"
        if not bucket:
            return obs_error(400, "InvalidRequest", "listing buckets is not supported by the emulator", resource)
        try:
            target = self.path(bucket, key) if key else self.root / bucket
        except ValueError as exc:
            return obs_error(400, "InvalidObjectName", str(exc), resource)
        if not key and method == "PUT":
            self.create_bucket(bucket)
            return Response(200, headers={"Location": f"/{bucket}"})
        if not key and method == "HEAD":
            return Response(200 if self.has_bucket(bucket) else 404)
        if not self.has_bucket(bucket):
            return obs_error(404, "NoSuchBucket", "The specified bucket does not exist", resource)
        if not key:
            if method == "GET":
                return self._list(bucket, parse_qs(query, keep_blank_values=True))
            return obs_error(405, "MethodNotAllowed", f"{method} on a bucket is not supported by the emulator", resource)
        if method == "PUT":
            if key.endswith("/"):  # a "folder" object
                target.mkdir(parents=True, exist_ok=True)
                return Response(200, headers={"ETag": f'"{hashlib.md5(b"").hexdigest()}"'})
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".obs-tmp-{uuid.uuid4().hex}"
            tmp.write_bytes(body)
            os.replace(tmp, target)
            return Response(200, headers={"ETag": f'"{hashlib.md5(body).hexdigest()}"'})
        if method in ("GET", "HEAD"):
            if not target.is_file():
                return obs_error(404, "NoSuchKey", "The specified key does not exist.", resource) if method == "GET" else Response(404)
            data = target.read_bytes()
            hdrs = {"Content-Type": "binary/octet-stream", "ETag": f'"{hashlib.md5(data).hexdigest()}"',
                    "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True), "Content-Length": str(len(data))}
            return Response(200, data if method == "GET" else b"", hdrs)
        if method == "DELETE":
            if target.is_file():
                target.unlink()
            return Response(204)
        return obs_error(405, "MethodNotAllowed", f"{method} is not supported by the emulator", resource)

    def _list(self, bucket: str, params: dict[str, list[str]]) -> Response:
        prefix = params.get("prefix", [""])[0]
        marker = params.get("marker", [""])[0]
        delimiter = params.get("delimiter", [""])[0]
        max_keys = int(params.get("max-keys", ["1000"])[0] or 1000)
        contents: list[str] = []
        prefixes: list[str] = []
        truncated = False
        last = ""
        for key in self.keys(bucket, prefix):
            if marker and key <= marker:
                continue
            rest = key[len(prefix):]
            # keys below a delimiter after the prefix are rolled up into one common prefix, counted once
            common = prefix + rest.split(delimiter, 1)[0] + delimiter if delimiter and delimiter in rest else None
            if common is not None and common in prefixes:
                continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if common is None:
                contents.append(key)
            else:
                prefixes.append(common)
            last = key
        items = []
        for key in contents:
            p = self.path(bucket, key)
            st = p.stat()
            modified = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(st.st_mtime))
            items.append(f"<Contents><Key>{escape(key)}</Key><LastModified>{modified}</LastModified>"
                         f"<ETag>\"{hashlib.md5(p.read_bytes()).hexdigest()}\"</ETag><Size>{st.st_size}</Size>"
                         "<StorageClass>STANDARD</StorageClass></Contents>")
        items += [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>'
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><Marker>{escape(marker)}</Marker>"
            + (f"<NextMarker>{escape(last)}</NextMarker>" if truncated else "")
            + f"<MaxKeys>{max_keys}</MaxKeys>" + (f"<Delimiter>{escape(delimiter)}</Delimiter>" if delimiter else "")
            + f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>" + "".join(items) + "</ListBucketResult>"
        ).encode()
        return Response(200, body, {"Content-Type": XML})
