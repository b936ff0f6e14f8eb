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
