"""``wait_until``: the tests' one way to wait for something that happens in another process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], limit: float = 30.0, what: str = "the condition", interval: float = 0.02) -> T:
    """Call ``predicate`` until it returns something truthy, and return that; fail the test after ``limit`` seconds.

    ``what`` may be a callable, called only on failure (e.g. to show the log at that moment).
    """
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {limit:g} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)
