"""Finding a job's processes from outside, to count what is left after a stop, a kill or a crash."""

from __future__ import annotations

import psutil


def tagged(tag: str) -> list[psutil.Process]:
    """The live (not zombie) processes whose command line carries ``tag`` (a unique hyperparameter value, say)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(tag in part for part in proc.info["cmdline"] or []) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def supervisors_of(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The worker supervisors above ``procs``: a supervisor gets its job through its stdin (it was started before
    the job), so its own command line names no job; it is the nearest ``supervisor.py`` ancestor of the job's."""
    found: list[psutil.Process] = []
    for proc in procs:
        try:
            for parent in proc.parents():
                if any(part.endswith("supervisor.py") for part in parent.cmdline()):
                    if parent not in found:
                        found.append(parent)
                    break
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
