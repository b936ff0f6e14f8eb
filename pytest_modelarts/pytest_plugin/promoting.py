"""Promotion from pytest: a passing smoke test's online configuration goes to :func:`pytest_modelarts.promotion.promote`."""

from __future__ import annotations

from collections.abc import Mapping

import pluggy
import pytest

from ..core.causes import remote_cause
from ..core.job import JobConfig
from ..core.phase import JobPhase
from ..core.plan import engine_of
from ..core.runner import attach_job
from ..core.session import Session
from ..core.training_job import TrainingJob
from ..envs.lockfile import read_lock
from ..errors import JobFailedError, ModelArtsError
from ..promotion import Ledger, SmokeRun
from ..promotion.promote import submit
from .marker import SmokeSpec
from .options import Settings
from .stash import PROMOTIONS_KEY


def online_reason(config: JobConfig, session: Session, job_id: str, job: TrainingJob | None = None) -> str | None:
    """Why the online job ``job_id`` did not complete, in one line (its log's last exception or line, its exit
    code, the service's reason), asked of the service through ``job`` (else attached to); None when the service
    cannot tell."""
    try:
        return remote_cause(job or attach_job(config, session, job_id))
    except ModelArtsError:  # the outcome is known already; a reason that cannot be fetched must not hide it
        return None


def promote_item(item: pytest.Item, *, spec: SmokeSpec | None, jobs: list[TrainingJob],
                 code_at_start: Mapping[int, str | None], session: Session, settings: Settings,
                 hook: pluggy.HookRelay) -> None:
    """Promote the online configuration of the passing smoke test ``item``; record it on the item for the report.

    ``code_at_start`` maps ``id(job)`` to the digest of the job's code tree taken when it started."""
    completed = [j for j in jobs if j.phase is JobPhase.COMPLETED and j.config.is_local]
    if spec is None or not spec.runs_a_job or not completed:
        return
    online = spec.online_config()
    smoke_job = completed[-1]
    runtime = smoke_job.runtime
    record, job = submit(
        online, session, ledger=Ledger(settings.ledger), lock_hash=runtime.env_hash if runtime else None,
        smoke=smoke_run(smoke_job, session, code_at_start.get(id(smoke_job))), online_env_hash=_lock_key(online),
        force=settings.promote_force, wait=settings.promote_wait, timeout=settings.timeout,
    )
    hook.pytest_modelarts_job_promoted(record=record, job_config=online)
    reason = online_reason(online, session, record.job_id, job) if record.failed else None
    item.stash.setdefault(PROMOTIONS_KEY, []).append({  # plain data for the reports: xdist carries it to the controller
        "nodeid": item.nodeid, "job_id": record.job_id, "job_name": record.job_name, "phase": record.phase,
        "created": record.created, "train_instance_type": record.train_instance_type, "reason": reason})
    if settings.promote_wait and record.failed:
        # waiting was asked for so that CI learns the online outcome: a job that did not complete fails the run
        # (a teardown error of the smoke test that passed), and the ledger keeps it so a rerun says the same
        raise JobFailedError(
            f"the promoted online job {record.job_name!r} (job id {record.job_id}) ended {record.phase}"
            + (f": {reason}" if reason else "") + f"; its log: `pytest-modelarts job logs {record.job_id}`. "
            "Fix the job and run again with --modelarts-promote-force to submit it anew"
        )


def smoke_run(job: TrainingJob, session: Session, code_hash: str | None) -> SmokeRun:
    """What a passing smoke job ran with (promotion.parity); ``code_hash``: its code tree's digest at its start."""
    info = job.get_job_info()
    return SmokeRun(
        contract=str(job.config.contract or session.contract),
        labels=tuple(job.config.hyperparameters.labels()),
        code_hash=code_hash,
        env_hash=job.runtime.env_hash if job.runtime else None,
        command=tuple(job.command or ()),
        image=info.get("image"),
        variables=tuple(info.get("variables") or ()),
        engine=engine.engine_id if (engine := engine_of(job.config)) is not None else None,
    )


def _lock_key(config: JobConfig) -> str | None:
    """The key of the environment's lock as it is now (what the online job's pinned requirements come from)."""
    engine = engine_of(config)  # an engine's job locks the engine's pins with its Environment on top
    env = engine.environment(config.environment) if engine is not None and engine.local_problem is None else config.environment
    if env is None or env.conda is None:
        return None
    locked = read_lock(env.default_lock_path())
    return locked.key if locked is not None else None
