"""A child that dies with the thread that started it: an installer (uv) of ours must never outlive a killed pytest.

``preexec_fn=die_with_parent`` asks the kernel (PR_SET_PDEATHSIG) to SIGKILL the child when its parent thread ends,
SIGKILL of pytest included; the caller's ``subprocess.run`` keeps that thread alive for as long as the child runs.
libc is loaded here, at import, not in the forked child (where an import may deadlock on a lock held by another
thread at the fork).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal

PR_SET_PDEATHSIG = 1

try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
except OSError:  # not Linux: the process group and our own clean-up remain
    _LIBC = None


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL it when the parent thread ends."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
