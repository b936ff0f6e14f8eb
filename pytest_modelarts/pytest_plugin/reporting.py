"""What the plugin reports: job records (carried on test reports, so xdist brings them to the controller),
failure texts for jobs that did not complete, the terminal summary and junitxml properties."""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ..core.phase import JobPhase
from ..core.training_job import TrainingJob
from ..errors import JobError
from .fidelity import summary_lines, why_relocated

#: name of the TestReport attribute holding the job records of a test (as plain dicts: xdist serialises them)
REPORT_ATTR = "modelarts_jobs"
PROMOTION_ATTR = "modelarts_promotions"


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """What the summary and junitxml tell of one finished (or abandoned) job of a test."""

    nodeid: str
    job_name: str
    job_id: str
    phase: JobPhase
    exit_code: int | None
    duration: float
    env_hash: str | None
    sandbox: str | None
    command: str | None
    logs: tuple[str, ...]
    output_conflicts: tuple[str, ...]
    lost_writes: tuple[str, ...]
    #: each worker's peak memory in bytes (0 where it was not measured), and what it was held to: ``peak 113 MiB of the
    #: 200 MiB of modelarts.vm.cpu.2u ...`` (empty where the backend measures nothing)
    peak_memory: tuple[int, ...] = ()
    usage: str = ""
    #: whether the sandbox and logs are still there (a passing test's are removed; failed ones kept up to a limit)
    kept: bool = True
    #: a local job: whether it ran in sandboxed nodes (False: relocated); None: another backend
    sandboxed: bool | None = None

    @classmethod
    def of(cls, job: TrainingJob, nodeid: str, *, kept: bool = True) -> JobRecord:
        return cls(
            nodeid=nodeid, job_name=job.job_name, job_id=job.job_id, phase=job.phase, exit_code=job.exit_code,
            duration=round(job.duration, 3), env_hash=job.runtime.env_hash if job.runtime else None,
            sandbox=str(job.sandbox) if job.sandbox else None, command=shlex.join(job.command) if job.command else None,
            logs=tuple(job.log_locations()), output_conflicts=tuple(job.output_conflicts),
            lost_writes=tuple(job.lost_writes), kept=kept, sandboxed=_sandboxed(job),
            peak_memory=tuple(p or 0 for p in usage.peaks) if (usage := job.usage()) is not None else (),
            usage=usage.describe() if usage is not None else "",
        )

    def to_data(self) -> dict[str, Any]:
        """Plain data (strings, numbers, tuples of strings), what xdist carries from a worker to the controller."""
        return {**dataclasses.asdict(self), "phase": self.phase.value}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> JobRecord:
        sequences = {key: tuple(data.get(key, ())) for key in ("logs", "output_conflicts", "lost_writes", "peak_memory")}  # JSON makes lists
        return cls(**{**data, **sequences, "phase": JobPhase(data["phase"])})

    @property
    def failed(self) -> bool:
        return self.phase is not JobPhase.COMPLETED


def _sandboxed(job: TrainingJob) -> bool | None:
    try:
        value = job.get_job_info().get("sandboxed")
    except Exception:  # a record is still made of a job whose backend cannot tell
        return None
    return value if isinstance(value, bool) else None


def format_job_error(exc: JobError, tail_lines: int) -> str:
    """The failure text of a smoke job: its cause, what happened, exit code, command, sandbox, logs, last log lines."""
    job = exc.job
    # the first line is what a CI summary line and a junit message show, cut to the terminal's width: the cause
    # first, then what happened; then what to do about it and where, before the details
    lines = [f"{exc.cause} (ModelArts {exc.summary})" if exc.cause else f"ModelArts {exc.summary}"]
    if job is not None:
        from .hints import hints_for  # only for a failure: not on every pytest run's start-up

        try:
            lines += [f"  {hint}" for hint in hints_for(exc, job)]
        except Exception:  # a hint is a help: a log that cannot be read leaves the report as it is
            pass
    if job is not None:
        lines.append(f"  phase:     {job.phase.value}")
        lines.append(f"  exit code: {exc.exit_code}")
        if job.failure_reason:
            lines.append(f"  reason:    {job.failure_reason}")
        if job.command:
            lines.append(f"  command:   {shlex.join(job.command)}")
        if job.sandbox:
            lines.append(f"  sandbox:   {job.sandbox} (kept)")
        lines += [f"  log:       {location}" for location in exc.logs]
        lines += [f"  lost:      {lost} (online, what a job writes outside --train_url is lost)" for lost in job.lost_writes]
        if job.runtime is not None:
            lines.append(f"  runtime:   {job.runtime.describe()}")
        if len(exc.logs) > 1 and exc.failed_worker is not None:
            lines.append(f"  failed:    worker {exc.failed_worker}: its log follows")
    carried = exc.log_tail
    if job is not None and tail_lines > len(carried):  # more lines asked for than the error carries: the job has them
        tail = job.tail(tail_lines, worker=exc.failed_worker or 0)
    else:
        tail = carried[len(carried) - tail_lines:]
    lines.append(f"--- last {len(tail)} log lines ---")
    lines.extend(tail)
    return "\n".join(lines)


def junit_properties(records: Iterable[JobRecord], promotions: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """junitxml ``<property>`` pairs: one group per job (the names repeat when a test ran several jobs)."""
    props: list[tuple[str, str]] = []
    for r in records:
        props += [
            ("modelarts_job", r.job_name), ("modelarts_job_id", r.job_id), ("modelarts_status", r.phase.value),
            ("modelarts_exit_code", str(r.exit_code)), ("modelarts_duration", f"{r.duration:.3f}"),
            ("modelarts_env_hash", r.env_hash or "unisolated"),
        ]
        if r.command:
            props.append(("modelarts_command", r.command))
        if r.sandbox and r.kept:
            props.append(("modelarts_sandbox", r.sandbox))
        props += [("modelarts_log", log) for log in r.logs if r.kept]
        props += [("modelarts_output_conflict", c) for c in r.output_conflicts]
        props += [("modelarts_lost_write", w) for w in r.lost_writes]
        props += [(f"modelarts_peak_memory_worker_{i}", str(peak)) for i, peak in enumerate(r.peak_memory) if peak]
        if r.usage:
            props.append(("modelarts_memory", r.usage))
    for p in promotions:
        props += [("modelarts_promoted_job_id", p["job_id"]), ("modelarts_promoted_status", p["phase"])]
    return props


def attachments(records: Iterable[JobRecord]) -> str:
    """Jenkins' JUnit attachment lines for the kept logs of ``records``."""
    return "".join(f"[[ATTACHMENT|{log}]]\n" for r in records if r.kept for log in r.logs)


def write_summary(tr: Any, records: Sequence[JobRecord], promotions: Sequence[Mapping[str, Any]]) -> None:
    """The ``ModelArts jobs`` section of the terminal summary."""
    if not records and not promotions:
        return
    tr.write_sep("=", "ModelArts jobs")
    if records:
        rows = [(r.job_name, r.phase.value, f"{r.duration:.2f}s", (r.env_hash or "unisolated")[:12], f"exit {r.exit_code}")
                for r in records]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for r, row in zip(records, rows, strict=True):
            text = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + "  " + r.nodeid
            text += f"  ({r.usage})" if r.usage else ""  # how close the job came to its flavor's memory
            tr.write_line(text, red=r.failed, green=not r.failed)
            if r.kept and r.sandbox and r.failed and Path(r.sandbox).exists():  # not pruned since
                tr.write_line(f"    sandbox kept: {r.sandbox}")
            for conflict in r.output_conflicts:
                tr.write_line(f"    output conflict: {conflict} wrote different contents (online, which one lands is not defined)",
                              yellow=True)
            for lost in r.lost_writes:
                tr.write_line(f"    lost write: {lost}: online this file is lost; write it under --train_url", yellow=True)
        relocated = sum(r.sandboxed is False for r in records)
        for notice in summary_lines(why_relocated() if relocated else None, relocated):
            tr.write_line(notice, yellow=True, bold=True)
    if promotions:
        tr.write_sep("-", "promoted online")
        cells = [(p["job_name"], f"job id {p['job_id']}", p["phase"], p["train_instance_type"],
                  "(submitted)" if p["created"] else "(already in the ledger)") for p in promotions]
        column = [max(len(line[i]) for line in cells) for i in range(5)]
        for p, line in zip(promotions, cells, strict=True):
            tr.write_line("  ".join(cell.ljust(w) for cell, w in zip(line, column, strict=True)) + "  " + p["nodeid"])
            if p.get("reason"):
                tr.write_line(f"    reason: {p['reason']}", red=True)


def junit_attach(config: pytest.Config, report: pytest.TestReport, text: str) -> None:
    """Attach the logs to the junitxml test case as Jenkins attachments, also when junit_logging is 'no'.

    With junit_logging including system-out, pytest writes the ``Captured stdout modelarts`` section itself.
    """
    from _pytest.junitxml import xml_key  # pytest's own junitxml plugin; absent without --junitxml

    xml = config.stash.get(xml_key, None)
    if xml is None or getattr(xml, "logging", None) not in ("no", "log", "system-err"):
        return
    with contextlib.suppress(Exception):
        import xml.etree.ElementTree as ET

        node = ET.Element("system-out")
        node.text = text
        xml.node_reporter(report).append(node)
