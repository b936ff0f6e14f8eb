"""The promotion ledger: which configurations were promoted, and the online job each one created.

A JSON file (by default ``.modelarts/promotions.json``) that maps a promotion key to a :class:`PromotionRecord`.
Every write is a whole-file atomic replace under a file lock, and :meth:`Ledger.claim` serialises the submission
of one key across processes (pytest-xdist workers).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.oskit import atomic_write
from ..core.phase import JobPhase
from ..errors import ConfigurationError

#: where the plugin keeps the ledger unless told otherwise (relative to the rootdir).
DEFAULT_LEDGER = Path(".modelarts") / "promotions.json"
_LEDGER_VERSION = 1
#: the phase of a record written just before the create request: the job may or may not exist online yet.
SUBMITTING = "Submitting"


@dataclass(frozen=True)
class PromotionRecord:
    """One promoted configuration and the online job it created.

    ``created`` is True when this call submitted the job, False when the ledger already had it (nothing
    was submitted). ``phase`` is the job's v2 phase as last seen (``Creating`` ... ``Completed``).
    """

    key: str
    job_id: str
    job_name: str
    phase: str
    created: bool
    train_instance_type: str = ""
    output_path: str | None = None
    submitted_at: float = 0.0
    smoke: dict[str, Any] | None = None  # what the smoke run ran with (promotion.parity.SmokeRun), when known
    #: a pending record's create request may create its job until then (seconds since the epoch): the request's
    #: longest wait for its answer; 0 for records written without it
    answer_by: float = 0.0

    @property
    def is_pending(self) -> bool:
        """True for a record written before its create request whose answer never came (no job id yet)."""
        return not self.job_id

    @property
    def is_final(self) -> bool:
        try:
            return JobPhase(self.phase).is_final
        except ValueError:
            return False

    @property
    def failed(self) -> bool:
        """True when the online job ended without completing (Failed, Abnormal, Terminated): under
        ``--modelarts-promote-wait`` that fails the run."""
        try:
            phase = JobPhase(self.phase)
        except ValueError:
            return False
        return phase.is_final and phase is not JobPhase.COMPLETED

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("created")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, created: bool = False) -> PromotionRecord:
        known = {f.name for f in dataclasses.fields(cls)} - {"created"}
        return cls(created=created, **{k: v for k, v in data.items() if k in known})


class Ledger:
    """The JSON file that remembers which configurations were promoted.

    Safe across processes: every write is a whole-file atomic replace under a file lock, and
    :meth:`claim` serialises the submission of one key across pytest-xdist workers.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # imported here: filelock pulls in asyncio and ssl (~40 ms), which a pytest run that never promotes
        # should not pay at start-up (this module is imported by the plugin)
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path) + ".lock")

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"the promotion ledger {str(self.path)!r} is unreadable ({exc}); delete it to start afresh") from None
        return dict(data.get("records", {})) if isinstance(data, dict) else {}

    def lookup(self, key: str) -> PromotionRecord | None:
        """The record of ``key`` (with ``created=False``), or None."""
        with self._lock:
            data = self._read().get(key)
        return PromotionRecord.from_dict(data) if data else None

    def record(self, rec: PromotionRecord) -> None:
        """Add or replace the record of ``rec.key`` (atomic write)."""
        with self._lock:
            items = self._read()
            items[rec.key] = rec.to_dict()
            self._write(items)

    def forget(self, key: str) -> None:
        """Remove the record of ``key`` (no error when absent)."""
        with self._lock:
            items = self._read()
            if items.pop(key, None) is not None:
                self._write(items)

    def _write(self, items: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": _LEDGER_VERSION, "records": items}, indent=2, sort_keys=True) + "\n"
        atomic_write(self.path, text, mode=0o644)

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Hold ``key`` while it is looked up and submitted, so that two processes never both submit it."""
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path.parent / f".{self.path.name}.{key[:16]}.lock")):
            yield
