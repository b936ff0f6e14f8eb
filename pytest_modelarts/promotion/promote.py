"""Promotion: submit a configuration whose smoke test passed as an online ModelArts training job, once.

The pytest plugin calls :func:`promote` after a smoke test passes, with the test's *online* configuration
(the same :class:`~pytest_modelarts.core.job.JobConfig` with ``train_instance_type`` set to a flavor and the
smoke overrides dropped). Nothing here knows about pytest, nor about a backend: jobs start through the runner.

Idempotence: the :class:`~pytest_modelarts.promotion.ledger.Ledger` maps a :func:`promotion_key` (the
configuration without its job name and local paths, the environment's lock hash and the code's content hash)
to the :class:`~pytest_modelarts.promotion.ledger.PromotionRecord` of the job it created. Rerunning CI finds the
record and submits nothing (``created=False``) unless ``force=True``.

Within one submission, the online backend itself never creates a job twice: after an ambiguous failure
(timeout, dropped connection, 5xx) it looks the job up by name before creating it again. Across processes, a
*pending* record (phase ``Submitting``, no job id) is written before the create request: when the process dies
while the request is in flight (SIGTERM, SIGKILL), the next run finds the pending record and looks the job up by
the recorded name (the backend's ``find_job``, the record's time as the request's) before creating one, and keeps
looking until the request's longest wait has passed (the service may still be creating the job when the next run
first looks), so an interrupted promotion never leads to a second online job.

One promotion reads the code tree once (:func:`~pytest_modelarts.core.codetree.digest_once`: the key's digest is the
upload's) and follows its job through one handle, started or attached once, which :func:`submit` returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import NamedTuple

from ..core.codetree import CodeTree, digest_once
from ..core.job import JobConfig
from ..core.runner import attach_job, backend_for, start_job
from ..core.session import Session
from ..core.training_job import TrainingJob
from ..errors import ConfigurationError, JobTimeoutError
from .ledger import SUBMITTING, Ledger, PromotionRecord
from .parity import SmokeRun, refusal


def promotion_key(config: JobConfig, lock_hash: str | None, code_hash: str) -> str:
    """The ledger key of ``config``: equal for the same configuration, environment lock and code.

    The job name and the local paths of code and inputs are left out (local paths differ between CI
    checkouts; their content is what counts: ``code_hash``, and the content of local inputs).
    """
    data = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name in ("job_name", "code_dir", "environment", "container", "backend", "code_excludes", "fitted"):
        data.pop(name, None)
    inputs = config.inputs
    if inputs is not None and inputs.is_local:
        data["inputs"] = "sha256:" + CodeTree(inputs.path).digest() if inputs.path.exists() else str(inputs)
    if config.code_dir is not None and config.code_dir.is_remote:  # obs:// code: the URL is the identity
        data["code_url"] = str(config.code_dir)
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
    smoke: SmokeRun | None = None,
    online_env_hash: str | None = None,
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
    A ledger hit whose job was not final asks the service for its phase (one request) and records it: without
    ``wait`` the ledger does not stay at ``Creating``.

    ``smoke`` is what the smoke run that passed ran with; it is recorded, and promotion refuses (a
    ConfigurationError naming each difference) when the online job would differ from it
    (:mod:`~pytest_modelarts.promotion.parity`). ``online_env_hash`` is the key of the environment's lock now.

    Raises :class:`~pytest_modelarts.errors.ConfigurationError` for a configuration that cannot go online
    and :class:`~pytest_modelarts.errors.OnlineError` (or its subclass ``AuthenticationError``) when the
    service refuses.
    """
    return submit(online_config, session, ledger=ledger, lock_hash=lock_hash, smoke=smoke,
                  online_env_hash=online_env_hash, force=force, wait=wait, timeout=timeout).record


class Promotion(NamedTuple):
    """The ledger's record, and the handle of its job when :func:`submit` started or followed it (else None)."""

    record: PromotionRecord
    job: TrainingJob | None


def submit(
    config: JobConfig,
    session: Session,
    *,
    ledger: Ledger,
    lock_hash: str | None,
    smoke: SmokeRun | None = None,
    online_env_hash: str | None = None,
    force: bool = False,
    wait: bool = False,
    timeout: float | None = None,
) -> Promotion:
    """:func:`promote`, with the job's handle (to ask it more, e.g. why it failed, without attaching again)."""
    if config.is_local:
        raise ConfigurationError(
            f"promote() needs an online configuration: train_instance_type is {config.train_instance_type!r}; "
            "give a ModelArts flavor such as 'modelarts.vm.cpu.2u'"
        )
    with digest_once():  # the key's digest is the upload's
        tree = config.code_tree
        chash = tree.digest() if tree is not None else hashlib.sha256((config.code_dir or "").encode()).hexdigest()
        if smoke is not None:
            differences = smoke.differences(config, code_hash=chash if tree is not None else None, env_hash=online_env_hash)
            if differences:
                raise ConfigurationError(refusal(config.job_name, differences))
        key = promotion_key(config, lock_hash, chash)
        with ledger.claim(key):
            previous = ledger.lookup(key)
            job: TrainingJob | None = None
            if previous is not None and previous.is_pending:
                previous, job = _recover(previous, config, session, ledger)
            existing = None if force else previous
            if existing is not None:
                if not existing.is_final:  # the ledger tells the job's phase as it is now, not as it was at creation
                    fresh = job is not None  # just recovered: its phase was asked for
                    job = job or attach_job(config, session, existing.job_id)
                    phase = _follow(job, timeout) if wait else existing.phase if fresh else job.phase.value
                    existing = dataclasses.replace(existing, phase=phase)
                    ledger.record(existing)
                return Promotion(existing, job)
            now = time.time()
            pending = PromotionRecord(
                key=key, job_id="", job_name=config.job_name, phase=SUBMITTING, created=True,
                train_instance_type=config.train_instance_type, output_path=config.output_path, submitted_at=now,
                smoke=smoke.to_dict() if smoke else None, answer_by=now + request_timeout(),
            )
            ledger.record(pending)  # before the create request: a process killed while it is in flight leaves this
            try:
                job = start_job(config, session)  # job.job_id is the id ModelArts gave it
            except Exception:
                # the service refused, or the backend found nothing after an ambiguous failure: no job was created
                if previous is not None:
                    ledger.record(previous)
                else:
                    ledger.forget(key)
                raise
            rec = dataclasses.replace(pending, job_id=job.job_id, phase=job.phase.value)
            ledger.record(rec)  # before waiting: a crash while waiting must not lead to a second submission
    if wait:
        rec = dataclasses.replace(rec, phase=_follow(job, timeout))
        ledger.record(rec)
    return Promotion(rec, job)


def request_timeout() -> float:
    """The longest a create request waits for its answer: the online clients' read timeout
    (``PYTEST_MODELARTS_HTTP_TIMEOUT``, default 60 s; the clients refuse a bad value before any request)."""
    try:
        value = float(os.environ.get("PYTEST_MODELARTS_HTTP_TIMEOUT", "60"))
    except ValueError:
        return 60.0
    return value if 0 < value < float("inf") else 60.0


#: seconds between two lookups of a job whose create request may still be in flight
LOOKUP_INTERVAL = 0.5


def _recover(pending: PromotionRecord, config: JobConfig, session: Session,
             ledger: Ledger) -> tuple[PromotionRecord | None, TrainingJob | None]:
    """The record and handle of the job an interrupted promotion created, found by name; (None, None) if none.

    The interrupted process's create request may have reached the service and still be at work there: the job
    appears when the service is done with it, which may be after our first lookup (a loaded machine, a slow
    service). So "no such job" is believed only once the request could no longer create one (``answer_by``, the
    request's longest wait); until then the job is looked for again. Submitting anew earlier made two jobs.
    """
    backend = backend_for(config, session)
    answer_by = pending.answer_by or pending.submitted_at + request_timeout()
    while True:
        job_id = backend.find_job(pending.job_name, created_after=pending.submitted_at)
        left = answer_by - time.time()
        if job_id or left <= 0:
            break
        time.sleep(min(LOOKUP_INTERVAL, left))
    if not job_id:
        ledger.forget(pending.key)
        return None, None
    job = attach_job(config, session, job_id)
    rec = dataclasses.replace(pending, job_id=job_id, phase=job.phase.value, created=False)
    ledger.record(rec)
    return rec, job


def _follow(job: TrainingJob, timeout: float | None) -> str:
    """Wait for an online job; return its phase (a timeout leaves it running)."""
    try:
        return job.wait(timeout, stop_on_timeout=False).value
    except JobTimeoutError:
        return job.phase.value
