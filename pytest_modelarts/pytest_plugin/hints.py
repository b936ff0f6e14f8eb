"""What a failed job's cause usually means and how to fix it, and the user's own files beside the job's paths.

A job's log speaks of the container's paths (``/home/ma-user/modelarts/user-job-dir/code/train.py``); the person
reading the failure edits ``code/train.py``. :func:`hints_for` reads the cause line and the log's tail and
returns short lines for the failure report's first screen: ``fix:`` what to change, ``at:`` where it was raised
(or stuck) as a path on this machine beside the job's path. Each hint is matched on the text ModelArts' own
runtime would print, so the same break reads the same locally and online.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.contract import V2_CONTRACT, Version
from ..errors import JobError, JobTimeoutError

_MISSING_MODULE = re.compile(r"^ModuleNotFoundError: No module named '([^']+)'")
_NO_FILE = re.compile(r"^(?:FileNotFoundError|IsADirectoryError|NotADirectoryError|OSError): \[Errno \d+\] [^:]+: '([^']+)'")
_UNRECOGNIZED = re.compile(r"error: unrecognized arguments: (.*)$")
_REQUIRED = re.compile(r"error: the following arguments are required: (.*)$")
#: a frame of a traceback (``File "x", line 3, in f``) or of a stack dump (``File "x", line 3 in f``)
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+),? in (\S+)')
#: what ModelArts passes to every boot file, which a strict parser refuses when it does not declare it
PLATFORM_ARGUMENTS = ("--data_url", "--train_url", "--num_gpus")


def path_pairs(job: Any) -> list[tuple[PurePosixPath, Path]]:
    """(the job's path, the same on this machine) for the code directory, the inputs and the outputs, in both
    contracts' layouts (their homes differ: a path matches one at most)."""
    config = job.config
    pairs: list[tuple[PurePosixPath, Path]] = []
    for layout in (version.contract.layout() for version in Version):
        if config.code_path is not None:
            pairs.append((layout.code_dir(config.code_dir_name), config.code_path))
        if config.inputs is not None:
            try:
                pairs.append((layout.data_url(0), config.local_path(config.inputs)))
            except ValueError:  # obs:// inputs without a local OBS: no path here
                pass
        if job.output_path:
            pairs.append((layout.train_url(0), Path(job.output_path)))
    return pairs


def on_this_machine(path: str, pairs: Sequence[tuple[PurePosixPath, Path]]) -> Path | None:
    """The host path of a job's ``path`` under one of ``pairs``, else None."""
    posix = PurePosixPath(path)
    for inside, outside in pairs:
        if posix == inside or inside in posix.parents:
            return outside / posix.relative_to(inside)
    return None


def _job_dir(job: Any) -> str:
    """The job's working directory as it saw it: the job directory of the contract its command ran under (a v2
    job's is named by MA_JOB_DIR)."""
    command = " ".join(getattr(job, "command", None) or ())
    v2 = V2_CONTRACT.layout().job_dir
    for version in Version:
        job_dir = version.contract.layout().job_dir
        if f"{job_dir}/" in command and job_dir != v2:
            return str(job_dir)
    return f"MA_JOB_DIR ({v2})"


def _shown(host: Path) -> str:
    try:
        return str(host.relative_to(Path.cwd()))
    except ValueError:
        return str(host)


def where(lines: Sequence[str], pairs: Sequence[tuple[PurePosixPath, Path]], *, stuck: bool) -> str | None:
    """``at:`` the user's file and line where the failure was raised (the last frame in the user's code) or, for a
    stack dump (``stuck``), where the job was waiting (the first such frame after "most recent call first")."""
    if stuck:  # a dump lists each thread, "(most recent call first)": the current thread's is what waited
        starts = [i for i, line in enumerate(lines) if "most recent call first" in line]
        current = [i for i in starts if "Current thread" in lines[i]]
        lines = lines[(current or starts or [0])[-1]:]
    frames = []
    for line in lines:
        m = _FRAME.match(line)
        if m:
            host = on_this_machine(m.group(1), pairs)
            if host is not None:
                frames.append((host, m.group(2), m.group(3), m.group(1)))
    if not frames:
        return None
    host, number, function, inside = frames[0] if stuck else frames[-1]
    return f"{_shown(host)}:{number} in {function} (in the job: {inside})"


def hints_for(exc: JobError, job: Any) -> list[str]:
    """Lines for the failure report's first screen: ``fix:`` (what to change) and ``at:`` (where, on this machine)."""
    cause = exc.cause or ""
    pairs = path_pairs(job)
    hints: list[str] = []
    m = _MISSING_MODULE.match(cause)
    if m:
        top = m.group(1).split(".")[0]
        where_from = ("the job ran on the unisolated interpreter, which lacks it: give the test an Environment"
                      if job.runtime is None or job.runtime.env_hash is None else "the job's environment lacks it")
        hints.append(f"fix: {where_from}; add {top!r} (its pip name) to the Environment's pip_packages, or to "
                     "pip-requirements.txt in the code directory (installed before the boot file, as ModelArts does)")
    m = _NO_FILE.match(cause)
    if m:
        missing = m.group(1)
        if not missing.startswith("/"):
            in_code = job.config.code_path / missing if job.config.code_path is not None else None
            found = f" ({_shown(in_code)} exists: it is in the code directory)" if in_code is not None and in_code.exists() else ""
            hints.append(f"fix: {missing!r} is relative, and a job's working directory is {_job_dir(job)}, not the "
                         f"code directory{found}: open it relative to the "
                         "boot file, os.path.join(os.path.dirname(os.path.abspath(__file__)), ...)")
        else:
            host = on_this_machine(missing, pairs)
            if host is not None:
                state = "exists" if host.exists() else "does not exist"
                hints.append(f"fix: {missing} in the job is {_shown(host)} on this machine, which {state}: check the "
                             "inputs (the marker's smoke_inputs/inputs) and the file names the boot file builds")
            else:
                hints.append(f"fix: {missing} is not a path of the job's container: read the inputs from --data_url "
                             "and write under --train_url (paths of this machine do not exist online)")
    m = _UNRECOGNIZED.search(cause)
    if m:
        given = m.group(1)
        platform = [a for a in PLATFORM_ARGUMENTS if a in given]
        who = (f"ModelArts passes {', '.join(platform)} to this boot file" if platform
               else "these are the job's hyperparameters or arguments ModelArts passes")
        hints.append(f"fix: {who}; parse with parser.parse_known_args() instead of parse_args() (the platform may add "
                     "arguments), or declare them")
    m = _REQUIRED.search(cause)
    if m:
        hints.append(f"fix: give {m.group(1)} as hyperparameters (the marker's hyperparameters= or smoke_hyperparameters=)")
    if isinstance(exc, JobTimeoutError):
        hints.append("fix: if it is stuck, the stack below shows where; if it needs longer, raise the marker's "
                     "timeout= or --modelarts-timeout")
    elif getattr(job, "failure_reason", None) == "out of memory" or cause.startswith("MemoryError"):
        hints.append("fix: the job ran out of memory: use less (smaller batches, fewer workers' copies), or a flavor with more")
    elif exc.exit_code == 137:
        hints.append("fix: exit 137 is a SIGKILL, most often the kernel's out-of-memory killer: check the job's memory use")
    at = where(job.tail(200, worker=exc.failed_worker or 0), pairs, stuck=isinstance(exc, JobTimeoutError))
    if at is not None:
        hints.append(f"at:  {at}")
    return hints
