"""One line per long step on stderr, with its timing; a rich spinner while it runs when stderr is a TTY."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported lazily: the cache-hit path must stay fast
    from rich.console import Console


class Progress:
    """Reports steps (solve, download, install) of locking and building an environment."""

    def __init__(self, label: str = "pytest-modelarts", *, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        return self._console

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"{self.label}: {message}", markup=False)

    @contextlib.contextmanager
    def step(self, message: str) -> Iterator[None]:
        start = time.perf_counter()
        status = self.console.status(f"{self.label}: {message} ...") if not self.quiet and self.console.is_terminal else None
        if status is not None:
            status.start()
        try:
            yield
        except BaseException:
            if status is not None:
                status.stop()
            self.info(f"{message} failed after {time.perf_counter() - start:.2f}s")
            raise
        if status is not None:
            status.stop()
        elapsed = time.perf_counter() - start
        self.timings[message] = elapsed
        self.info(f"{message} done in {elapsed:.2f}s")
