"""Whether this machine's local jobs run as ModelArts runs them: said at the top and at the end of a run when not.

Without bubblewrap (or with user namespaces refused) the local backend falls back to the relocated mode: the job
runs as you, at relocated paths, in the host's network (what it writes where online it would be lost is still
found, by listing its tree before and after). Every test may still pass; so the header and the terminal summary say it, with the fix, instead of the
first line of each job's log alone.
"""

from __future__ import annotations

import os

#: what the relocated mode gives up, in one clause
CONSEQUENCES = ("jobs run as you (not ma-user), at relocated paths (not /home/ma-user/...), in the host's network "
                "(no network of their own)")
INSTALL = "install bubblewrap and iproute2 (Debian, Ubuntu: apt-get install -y bubblewrap iproute2)"
NAMESPACES = ("allow unprivileged user namespaces (sysctl -w kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
              "kernel.apparmor_restrict_unprivileged_userns=0)")


def why_relocated() -> str | None:
    """None when local jobs run in sandboxed nodes here (or must: then a job fails with its own error); else why not."""
    # imported here: the local backend's modules cost ~20 ms, which a pytest run without --modelarts need not pay
    from ..backends.local.nodes import REQUIRE_VARIABLE, unavailable

    if os.environ.get(REQUIRE_VARIABLE) == "1":
        return None
    why = unavailable()
    # the fix is said on a line of its own: the probe's own "(install the Debian packages ...)" is cut here
    return why.split(" (install ", 1)[0] if why is not None else None


def fix_for(why: str) -> str:
    return INSTALL if "not found" in why else NAMESPACES


def header_lines(why: str) -> list[str]:
    """pytest's header: the mode, why, and the fix."""
    return [f"modelarts: NO SANDBOX: {why}",
            f"modelarts:   local jobs run relocated, not as ModelArts runs them: {CONSEQUENCES}",
            f"modelarts:   fix: {fix_for(why)} (docs/sandbox.md)"]


def summary_lines(why: str | None, relocated: int) -> list[str]:
    """The terminal summary's notice when ``relocated`` local jobs ran outside sandboxed nodes."""
    if not relocated:
        return []
    reason = why or "Session(sandbox=False)"
    fix = fix_for(why) if why else "let jobs run sandboxed"
    return [f"{relocated} local job(s) ran relocated, not in sandboxed nodes ({reason}): {CONSEQUENCES}.",
            f"Fix: {fix}; then run again."]
