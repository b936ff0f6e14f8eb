"""Promotion from pytest: a passing smoke test's online configuration goes to :func:`pytest_modelarts.promotion.promote`."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

from ..core.phase import JobPhase
from ..core.session import Session
from ..core.training_job import TrainingJob
from ..promotion import Ledger, PromotionRecord, promote
from .marker import SmokeSpec, job_name_for
from .options import Settings
from .stash import PROMOTIONS_KEY


def promotion_record(rec: PromotionRecord, nodeid: str) -> dict[str, Any]:
    """A plain record of a promotion, for reports (xdist carries it to the controller)."""
    return {"nodeid": nodeid, "job_id": rec.job_id, "job_name": rec.job_name, "phase": rec.phase,
            "created": rec.created, "train_instance_type": rec.train_instance_type}


def promote_item(item: pytest.Item, *, spec: SmokeSpec | None, jobs: list[TrainingJob], session: Session,
                 settings: Settings, hook: pluggy.HookRelay) -> None:
    """Promote the online configuration of the passing smoke test ``item``; record it on the item for the report."""
    completed = [j for j in jobs if j.phase is JobPhase.COMPLETED and j.config.is_local]
    if spec is None or not spec.runs_a_job or not completed:
        return
    online = spec.online_config(session, flavor=settings.instance_type, job_name=spec.job_name or job_name_for(item.name))
    runtime = completed[-1].runtime
    record = promote(
        online, session, ledger=Ledger(settings.ledger), lock_hash=runtime.env_hash if runtime else None,
        force=settings.promote_force, wait=settings.promote_wait, timeout=settings.timeout,
    )
    hook.pytest_modelarts_job_promoted(record=record, job_config=online)
    item.stash.setdefault(PROMOTIONS_KEY, []).append(promotion_record(record, item.nodeid))
