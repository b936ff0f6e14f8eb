"""``pytest-modelarts job status|logs|stop <id>``: an online (or emulated) training job, reached by its id.

The credentials and endpoints are the SDK's (:class:`~pytest_modelarts.core.session.Session` with no
argument reads them from the environment); the job is followed through the runner's
:func:`~pytest_modelarts.core.runner.attach_job` and the online backend, as promotion follows one from its
ledger. Secrets are never printed: errors are the backend's, scrubbed of the keys.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from .core.causes import remote_cause
from .core.job import JobConfig
from .core.phase import JobPhase
from .core.runner import attach_job
from .core.session import Session
from .core.training_job import TrainingJob
from .errors import ConfigurationError, OnlineError

#: the variables a command of ``job`` needs, each with what it is
CREDENTIAL_VARIABLES = (
    ("HUAWEICLOUD_SDK_AK", "the access key"),
    ("HUAWEICLOUD_SDK_SK", "the secret key"),
    ("HUAWEICLOUD_SDK_PROJECT_ID", "the project id"),
)
ENDPOINT_VARIABLES = ("MODELARTS_ENDPOINT", "HUAWEICLOUD_SDK_REGION")


def add_job_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    job = sub.add_parser(
        "job", help="an online ModelArts training job by its id: status, logs, stop",
        description="Reach an online (or emulated) training job by its id, e.g. one a promotion submitted. "
                    "Credentials: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID; the service: "
                    "MODELARTS_ENDPOINT or HUAWEICLOUD_SDK_REGION (as for Session()).",
    )
    job_sub = job.add_subparsers(dest="job_command", required=True)
    status = job_sub.add_parser("status", help="phase, secondary phase, name, flavor, times (and why it failed)")
    status.add_argument("job_id", metavar="JOB_ID")
    status.set_defaults(func=_status)
    logs = job_sub.add_parser("logs", help="the job's log (every task's, or one task's)")
    logs.add_argument("job_id", metavar="JOB_ID")
    logs.add_argument("--task", metavar="TASK", default=None, help="one task's log, e.g. worker-0 (default: all)")
    logs.add_argument("--tail", metavar="N", type=int, default=None, help="only the last N lines")
    logs.set_defaults(func=_logs)
    stop = job_sub.add_parser("stop", help="stop the job (v2 action terminate) and print its final phase")
    stop.add_argument("job_id", metavar="JOB_ID")
    stop.set_defaults(func=_stop)


def online_session() -> Session:
    """``Session()`` from the environment, after checking that it can reach a job online (names what to set)."""
    missing = [f"{name} ({what})" for name, what in CREDENTIAL_VARIABLES if not os.environ.get(name)]
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        missing.append("MODELARTS_ENDPOINT (the ModelArts endpoint URL) or HUAWEICLOUD_SDK_REGION (e.g. cn-north-4)")
    if missing:
        raise ConfigurationError("reaching an online job needs credentials and a service; set " + ", ".join(missing))
    return Session(stream_logs=False)


def attach(job_id: str, session: Session | None = None) -> tuple[TrainingJob, JobPhase]:
    """The handle of the online job ``job_id`` and its phase, asked for once (an unknown id is a ConfigurationError
    naming it)."""
    session = session or online_session()
    # a handle only: attaching reads the backend's name from it; the job's own name and flavor come from the service
    handle = JobConfig(job_name=job_id, train_instance_type="online", backend="online", fitted=True)
    job = attach_job(handle, session, job_id)
    try:
        phase = job.phase  # the first request: does the job exist?
    except OnlineError as exc:
        if exc.status == 404:
            raise ConfigurationError(f"no training job with id {job_id!r} in project {session.project_id} "
                                     f"({session.endpoint or session.region_name}): {exc}") from None
        raise
    return job, phase


def _when(ms: Any) -> str:
    if not ms:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(ms) / 1000))


def describe(job: TrainingJob) -> list[str]:
    """What ``job status`` prints: one ``key: value`` line each."""
    info = job.get_job_info()
    phase, secondary = info.get("phase"), info.get("secondary_phase")
    lines = [
        f"job id:     {job.job_id}",
        f"name:       {info.get('job_name')}",
        f"phase:      {phase}" + (f" ({secondary})" if secondary and secondary != phase else ""),
        f"flavor:     {info.get('train_instance_type')} x {info.get('train_instance_count')}",
        f"created:    {_when(info.get('create_time'))}",
        f"started:    {_when(info.get('start_time'))}",
    ]
    duration = info.get("online_duration_ms")
    if duration is not None:
        lines.append(f"duration:   {int(duration) / 1000:.1f} s")
    if info.get("exit_code") is not None:
        lines.append(f"exit code:  {info['exit_code']}")
    if phase in ("Failed", "Abnormal"):
        why = remote_cause(job)
        if why:
            lines.append(f"reason:     {why}")
    return lines


def _status(args: argparse.Namespace) -> int:
    job, _ = attach(args.job_id)
    print("\n".join(describe(job)))
    return 0


def _logs(args: argparse.Namespace) -> int:
    if args.tail is not None and args.tail < 0:
        print(f"--tail: {args.tail}: give a number of lines >= 0", file=sys.stderr)
        return 2
    job, _ = attach(args.job_id)
    names = job.get_job_log_file_list()
    if args.task is not None and args.task not in names:
        raise ConfigurationError(f"job {args.job_id} has no task {args.task!r}; its tasks: {', '.join(names)}")
    chosen = [args.task] if args.task is not None else names
    for name in chosen:
        if len(chosen) > 1:
            print(f"==> {name} <==")
        text = job.get_job_log(name)
        if args.tail is not None:
            text = "".join(text.splitlines(keepends=True)[-args.tail:]) if args.tail else ""
        sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
    return 0


def _stop(args: argparse.Namespace) -> int:
    job, before = attach(args.job_id)  # the phase attaching read: not asked again
    if before.is_final:
        print(f"job {args.job_id} had already ended: {before}")
        return 0
    job.stop()
    after = job.phase
    if not after.is_final:
        print(f"job {args.job_id} was asked to stop and is still {after}", file=sys.stderr)
        return 1
    print(f"job {args.job_id} stopped: {after}")
    return 0
