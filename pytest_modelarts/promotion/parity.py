"""Parity: what a passing smoke run ran with, and whether the online job would run the same.

A smoke test's pass says something about the online job only if the two run the same thing. Promotion records
a :class:`SmokeRun` in the ledger and refuses, naming each difference, when the online job would differ in what
the smoke run could have caught: the contract (online jobs are new-version, v2), the code, the environment's
lock, or the arguments the boot file is given (smoke overrides may change values, never add labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..core.contract import Version
from ..core.job import JobConfig
from ..core.plan import engine_of


@dataclass(frozen=True)
class SmokeRun:
    """What a passing smoke run ran with."""

    contract: str  # "v2" or "v1"
    labels: tuple[str, ...]  # the hyperparameter labels the boot file was given
    code_hash: str | None  # the code tree's digest (None: obs:// code)
    env_hash: str | None  # the locked environment's key (None: unisolated)
    command: tuple[str, ...] = ()  # worker 0's command, for the record
    image: str | None = None  # the image of a container run, for the record
    variables: tuple[str, ...] = ()  # the names of the variables the job saw, for the record
    engine: str | None = None  # the preset engine (engine_id) the smoke run ran on; None: none

    def to_dict(self) -> dict[str, Any]:
        """As the ledger keeps it (JSON: lists, not tuples)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    def differences(self, online: JobConfig, *, code_hash: str | None, env_hash: str | None) -> list[str]:
        """How the online job of ``online`` would differ from this run, one line each (empty: none)."""
        found = []
        if not Version.parse(self.contract, "SmokeRun").contract.submittable:
            found.append(f"contract: the smoke run reproduced {self.contract} (old-version) jobs, but promotion submits a "
                         "new-version (v2) job (/home/ma-user, no DLS_* variables, local paths as --data_url): "
                         "smoke-test it with contract='v2'")
        extra = sorted(set(self.labels) - {label for label, _ in online.hyperparameters})
        if extra:
            found.append(f"hyperparameters: the smoke run gave --{', --'.join(extra)}, which the online job will not "
                         "get: smoke_hyperparameters may change values of hyperparameters, not add labels")
        online_engine = engine_of(online)
        online_id = online_engine.engine_id if online_engine is not None else None
        if online_id != self.engine:
            found.append(f"engine: the smoke run ran on {self.engine or 'no preset engine'}, the online job would run on "
                         f"{online_id or 'no preset engine'}: give the smoke run the same framework_type/framework_version")
        if self.code_hash is not None and code_hash is not None and self.code_hash != code_hash:
            found.append("code: the code directory changed after the smoke run passed")
        if self.env_hash is not None and env_hash is not None and self.env_hash != env_hash:
            found.append(f"environment: the smoke run used the lock {self.env_hash[:12]}, the online job would pin "
                         f"{env_hash[:12]} (the environment's lock changed)")
        return found


def refusal(job_name: str, differences: Sequence[str]) -> str:
    lines = "\n".join(f"  - {d}" for d in differences)
    return (f"promotion of {job_name!r} refused: the online job would differ from the smoke run that passed:\n{lines}\n"
            "Smoke-test what you promote (or promote a configuration whose smoke run matches it).")
