"""Promotion: submit a configuration whose smoke test passed as an online ModelArts training job, once.

The pytest plugin calls :func:`promote` after a smoke test passes, with the test's *online* configuration
(the same :class:`~pytest_modelarts.config.JobConfig` with ``train_instance_type`` set to a flavor and the
smoke overrides dropped). Nothing here knows about pytest.

Idempotence: a :class:`Ledger` (a JSON file, by default ``.modelarts/promotions.json``) maps a
:func:`promotion_key` (the configuration without its job name and local paths, the environment's lock hash
and the code's content hash) to the :class:`PromotionRecord` of the job it created. Rerunning CI finds the
record and submits nothing (``created=False``) unless ``force=True``. Ledger writes are atomic, and a
per-key file lock makes concurrent pytest-xdist workers submit a key at most once.

Within one submission, the online backend itself never creates a job twice: after an ambiguous failure
(timeout, dropped connection, 5xx) it looks the job up by name before creating it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from .errors import ConfigurationError, JobTimeoutError
from .job import JobPhase

if TYPE_CHECKING:
    from .config import JobConfig
    from .session import Session

#: where the plugin keeps the ledger unless told otherwise (relative to the rootdir).
DEFAULT_LEDGER = Path(".modelarts") / "promotions.json"
_LEDGER_VERSION = 1
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache"})


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

    @property
    def is_final(self) -> bool:
        try:
            return JobPhase(self.phase).is_final
        except ValueError:
            return False

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

    def records(self) -> list[PromotionRecord]:
        """Every record, oldest first."""
        with self._lock:
            items = self._read()
        return sorted((PromotionRecord.from_dict(v) for v in items.values()), key=lambda r: r.submitted_at)

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
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": _LEDGER_VERSION, "records": items}, fh, indent=2, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Hold ``key`` while it is looked up and submitted, so that two processes never both submit it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path.parent / f".{self.path.name}.{key[:16]}.lock")):
            yield


def tree_hash(path: str | os.PathLike[str]) -> str:
    """sha256 of a file or directory tree: relative paths and contents, caches (``__pycache__``, VCS) left out."""
    root = Path(path)
    digest = hashlib.sha256()
    if root.is_file():
        files = [(root.name, root)]
    else:
        files = []
        for base, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
            for name in names:
                if name.endswith((".pyc", ".pyo")):
                    continue
                full = Path(base) / name
                files.append((full.relative_to(root).as_posix(), full))
    for rel, full in sorted(files):
        h = hashlib.sha256()
        with open(full, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest.update(f"{rel}\0{h.hexdigest()}\n".encode())
    return digest.hexdigest()


def code_hash(code_dir: str | os.PathLike[str]) -> str:
    """The content hash of a local code directory (what the online backend's OBS code prefix is named by)."""
    path = Path(code_dir)
    if not path.is_dir():
        raise ConfigurationError(f"code_dir {str(path)!r} is not a directory")
    return tree_hash(path)


def promotion_key(config: JobConfig, lock_hash: str | None, code_hash: str) -> str:
    """The ledger key of ``config``: equal for the same configuration, environment lock and code.

    The job name and the local paths of code and inputs are left out (local paths differ between CI
    checkouts; their content is what counts: ``code_hash``, and the content of local inputs).
    """
    data = dataclasses.asdict(config)
    for name in ("job_name", "code_dir", "environment", "container", "backend"):
        data.pop(name, None)
    inputs = config.inputs
    if inputs is not None and ("://" not in inputs or inputs.startswith("file://")):
        local = Path(inputs.removeprefix("file://")).expanduser()
        data["inputs"] = "sha256:" + tree_hash(local) if local.exists() else inputs
    if config.code_dir is not None and config.code_path is None:  # obs:// code: the URL is the identity
        data["code_url"] = config.code_dir
    data["environment_name"] = config.environment.name if config.environment is not None else None
    data["lock_hash"] = lock_hash
    data["code_hash"] = code_hash
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def promote(
    online_config: JobConfig,
    session: Session,
    *,
    ledger: Ledger,
    lock_hash: str | None,
    force: bool = False,
    wait: bool = False,
    timeout: float | None = None,
) -> PromotionRecord:
    """Submit ``online_config`` as an online training job unless the ledger already has it.

    ``online_config`` is the smoke test's configuration with its online ``train_instance_type`` (validated
    again here). ``lock_hash`` is the environment's lock hash (None without a locked environment). With
    ``force=True`` the ledger is ignored and a new job is submitted (and recorded). With ``wait=True`` the
    call waits for the job (a new one, or the ledger's when it is not final yet) to reach a final phase, at
    most ``timeout`` seconds; the record then carries that phase; a timeout leaves the job running and
    returns its current phase. A failed online job is reported in ``phase``, not raised.

    Raises :class:`~pytest_modelarts.errors.ConfigurationError` for a configuration that cannot go online
    and :class:`~pytest_modelarts.errors.OnlineError` (or its subclass ``AuthenticationError``) when the
    service refuses.
    """
    from .estimator import revalidate, start_job

    if online_config.is_local:
        raise ConfigurationError(
            f"promote() needs an online configuration: train_instance_type is {online_config.train_instance_type!r}; "
            "give a ModelArts flavor such as 'modelarts.vm.cpu.2u'"
        )
    config = revalidate(online_config, {})
    path = config.code_path
    chash = code_hash(path) if path is not None else hashlib.sha256((config.code_dir or "").encode()).hexdigest()
    key = promotion_key(config, lock_hash, chash)
    with ledger.claim(key):
        existing = None if force else ledger.lookup(key)
        if existing is not None:
            if wait and not existing.is_final:
                phase = _follow(existing.job_id, config, session, timeout)
                existing = dataclasses.replace(existing, phase=phase)
                ledger.record(existing)
            return existing
        job = start_job(config, session)  # job.job_id is the id ModelArts gave it
        rec = PromotionRecord(
            key=key, job_id=job.job_id, job_name=config.job_name, phase=job.phase.value, created=True, train_instance_type=config.train_instance_type,
            output_path=config.output_path, submitted_at=time.time(),
        )
        ledger.record(rec)  # before waiting: a crash while waiting must not lead to a second submission
    if wait:
        try:
            phase = job.wait(timeout, stop_on_timeout=False)
        except JobTimeoutError:
            phase = job.phase
        rec = dataclasses.replace(rec, phase=phase.value)
        ledger.record(rec)
    return rec


def _follow(job_id: str, config: JobConfig, session: Session, timeout: float | None) -> str:
    """Wait for an already submitted online job; return its phase."""
    from .backends.online import OnlineBackend

    execution = OnlineBackend(session).attach(job_id, config)
    return execution.wait(timeout).value
