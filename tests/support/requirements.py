"""What a test needs from the machine: skipped where it is missing, failed where CI says it must be there.

``PYTEST_MODELARTS_REQUIRE`` lists what must be present (``docker``, ``debian-python``, ...) or says ``all``;
``.ci/run`` sets ``all``, so that a CI machine that lost a system package fails instead of passing by skipping.
Hardware (``gpu``) is required only where named: ``all`` cannot install a GPU, and its tests say they skipped.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

VARIABLE = "PYTEST_MODELARTS_REQUIRE"


#: what no installation gives a machine: required only where named, never by ``all``
HARDWARE = frozenset({"gpu"})


def required(what: str) -> bool:
    """``all`` requires everything but hardware; ``-name`` takes one thing back out (``all,-python2.7``)."""
    wanted = {w.strip() for w in os.environ.get(VARIABLE, "").split(",") if w.strip()}
    if f"-{what}" in wanted:
        return False
    return what in wanted or ("all" in wanted and what not in HARDWARE)


def missing(what: str, why: str) -> NoReturn:
    """Skip the test for lack of ``what`` (``why`` says how to get it), or fail it when ``what`` is required."""
    if required(what):
        pytest.fail(f"{VARIABLE} requires {what}, but {why}")
    pytest.skip(why)


def require_sandbox() -> None:
    """Skip (or fail, where required) a test that needs sandboxed nodes on a machine that cannot make them."""
    from pytest_modelarts.backends.local.nodes import unavailable

    why = unavailable()
    if why is not None:
        missing("sandbox", f"sandboxed nodes are unavailable here: {why}")
