"""Retrying with bounded exponential backoff: the one retry loop of the project.

Callers say which exceptions are worth another attempt; anything else goes through at once. The online
backend retries service calls with it, the Docker backend the daemon's transient refusals.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..errors import ConfigurationError

T = TypeVar("T")
RETRIES_VARIABLE = "PYTEST_MODELARTS_RETRIES"


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all, sleeping ``base_delay * 2**n`` (at most ``max_delay``, with jitter) between them."""

    attempts: int = 10
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: bool = True

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The default policy, with ``$PYTEST_MODELARTS_RETRIES`` attempts when it is set."""
        raw = os.environ.get(RETRIES_VARIABLE)
        if not raw:
            return cls()
        try:
            attempts = int(raw)
        except ValueError:
            attempts = 0
        if attempts < 1:
            raise ConfigurationError(f"{RETRIES_VARIABLE}={raw!r}: must be a whole number of attempts >= 1")
        return cls(attempts=attempts)

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (0-based)."""
        pause = min(self.max_delay, self.base_delay * float(2**attempt))  # int ** int is typed Any (a negative power gives a float)
        return pause * (0.5 + random.random() / 2) if self.jitter else pause


def retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    before_retry: Callable[[], T | None] | None = None,
) -> T:
    """Call ``fn`` until it returns, at most ``policy.attempts`` times; re-raise the last ``retry_on`` error.

    ``before_retry`` runs before each new attempt; a non-None result is returned instead of trying again
    (e.g. the job an ambiguous create made after all).
    """
    for attempt in range(policy.attempts):
        if attempt:
            time.sleep(policy.delay(attempt - 1))
            if before_retry is not None:
                found = before_retry()
                if found is not None:
                    return found
        try:
            return fn()
        except retry_on:
            if attempt == policy.attempts - 1:
                raise
    raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover
