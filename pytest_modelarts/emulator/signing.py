"""Verification of the two request signatures the emulator accepts.

* ModelArts (API Gateway): ``Authorization: SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<h1;h2>, Signature=<hex>``
  over the canonical request ``METHOD\\nURI/\\nQUERY\\nHEADERS\\nSIGNED\\nsha256(body)``, the scheme
  ``huaweicloudsdkcore`` signs with. Re-implemented here from the scheme, not imported, so that a bug in the
  client cannot make both sides agree.
* OBS V2 (what ``esdk-obs-python`` uses for a path-style endpoint such as ``http://127.0.0.1:port``):
  ``Authorization: AWS <ak>:base64(hmac-sha1(sk, string-to-sign))``; ``OBS <ak>:...`` with ``x-obs-``
  headers is accepted too.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote

_APIG = re.compile(r"^SDK-HMAC-SHA256\s+Access=(?P<ak>[^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)$")
_OBS = re.compile(r"^(AWS|OBS) (?P<ak>[^:\s]+):(\S+)$")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_CLOCK_SKEW = timedelta(minutes=15)
#: query parameters that are part of the OBS V2 string to sign (sub-resources)
OBS_SUBRESOURCES = frozenset({
    "acl", "append", "cors", "delete", "lifecycle", "location", "logging", "metadata", "notification",
    "partnumber", "policy", "position", "quota", "rename", "replication", "restore", "storageclass",
    "storageinfo", "storagepolicy", "tagging", "torrent", "truncate", "uploadid", "uploads", "versionid",
    "versioning", "versions", "website", "x-image-process", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "length", "modify",
})


class SignatureError(Exception):
    """The request is not signed with the emulator's key; ``unknown_key`` when the access key is not known."""

    def __init__(self, message: str, *, unknown_key: bool = False) -> None:
        self.unknown_key = unknown_key
        super().__init__(message)


_sdk_quote = functools.partial(quote, safe="~")


def _authorization(headers: Mapping[str, str], pattern: re.Pattern[str], scheme: str, access_key: str) -> tuple[str, ...]:
    """The groups of ``pattern`` in the Authorization header, once the access key it names (group ``ak``) is ours."""
    auth = headers.get("authorization")
    match = pattern.match(auth.strip()) if auth else None
    if match is None:
        raise SignatureError(f"missing or malformed {scheme} Authorization header")
    if not hmac.compare_digest(match["ak"], access_key):
        raise SignatureError("unknown access key", unknown_key=True)
    return match.groups()


def verify_apig(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
                access_key: str, secret_key: str, *, now: datetime | None = None) -> None:
    """Raise :class:`SignatureError` unless the request carries a valid SDK-HMAC-SHA256 signature."""
    headers = {key.lower(): value for key, value in headers.items()}
    _, signed, signature = _authorization(headers, _APIG, "SDK-HMAC-SHA256", access_key)
    date = headers.get("x-sdk-date")
    if date is None:
        raise SignatureError("missing X-Sdk-Date")
    try:
        when = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("malformed X-Sdk-Date") from None
    if abs((now or datetime.now(UTC)) - when) > MAX_CLOCK_SKEW:
        raise SignatureError("X-Sdk-Date is too far from the server's time")
    names = signed.split(";")
    lines = []
    for name in names:
        value = headers.get(name)
        if value is None:
            raise SignatureError(f"signed header {name!r} is missing")
        # the client sends UTF-8 bytes that the HTTP layer read as latin-1
        lines.append(f"{name}:{value.encode('iso-8859-1').decode('utf-8', 'replace').strip()}")
    uri = "/".join(_sdk_quote(part) for part in unquote(path).split("/"))
    if not uri.endswith("/"):
        uri += "/"
    params = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{_sdk_quote(k)}={_sdk_quote(v)}" for k, v in params)
    payload = headers.get("x-sdk-content-sha256") if "x-sdk-content-sha256" in names else None
    if payload is None:
        payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    canonical = "\n".join([method.upper(), uri, canonical_query, "\n".join(lines) + "\n", signed, payload])
    to_sign = "\n".join(["SDK-HMAC-SHA256", date, hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignatureError("signature mismatch")


def verify_obs(method: str, path: str, query: str, headers: Mapping[str, str],
               access_key: str, secret_key: str) -> None:
    """Raise :class:`SignatureError` unless the request carries a valid OBS V2 signature (path style)."""
    headers = {key.lower(): value for key, value in headers.items()}
    scheme, _, signature = _authorization(headers, _OBS, "V2", access_key)
    prefix = "x-amz-" if scheme == "AWS" else "x-obs-"
    interesting: dict[str, str] = {"content-md5": "", "content-type": ""}
    for lk, value in headers.items():
        if lk in ("content-md5", "content-type", "date") or lk.startswith(prefix):
            interesting[lk] = value
    if prefix + "date" in interesting:
        interesting["date"] = ""
    parts = [method.upper() + "\n"]
    for lk in sorted(interesting):
        value = interesting[lk]
        parts.append(f"{lk}:{value.strip() if lk.startswith(prefix + 'meta-') else value}" if lk.startswith(prefix) else value)
        parts.append("\n")
    parts.append(path or "/")
    sub = []
    for k, v in sorted(parse_qsl(query, keep_blank_values=True)):
        if k.lower() in OBS_SUBRESOURCES or k.lower().startswith(prefix):
            sub.append(quote(k, safe="/") + (f"={v}" if v != "" else ""))
    if sub:
        parts.append("?" + "&".join(sub))
    to_sign = "".join(parts)
    expected = base64.b64encode(hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise SignatureError("signature mismatch")
