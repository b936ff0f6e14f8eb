"""One line per long step, with its timing: on stderr (a rich spinner while it runs when stderr is a TTY), or
handed to a :class:`~pytest_modelarts.core.session.ProgressSink` (the pytest plugin's terminal reporter)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported lazily: the cache-hit path must stay fast
    from rich.console import Console
    from rich.status import Status

    from ..core.session import ProgressSink


class Progress:
    """Reports steps (solve, download, install) of locking and building an environment."""

    def __init__(self, label: str = "pytest-modelarts", *, quiet: bool = False, sink: ProgressSink | None = None) -> None:
        self.label = label
        self.quiet = quiet
        self.sink = sink
        self.timings: dict[str, float] = {}
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        return self._console

    def info(self, message: str) -> None:
        if self.sink is not None:
            self.sink.line(message)  # the sink says whose line it is, and decides what to show
        elif not self.quiet:
            self.console.print(f"{self.label}: {message}", markup=False)

    @contextlib.contextmanager
    def step(self, message: str) -> Iterator[None]:
        start = time.perf_counter()
        status: Status | None = None
        if self.sink is not None:
            self.sink.begin(message)
        elif not self.quiet and self.console.is_terminal:
            status = self.console.status(f"{self.label}: {message} ...")
            status.start()
        try:
            yield
        except BaseException:
            self._stop(status)
            self.info(f"{message} failed after {time.perf_counter() - start:.2f}s")
            raise
        self._stop(status)
        elapsed = time.perf_counter() - start
        self.timings[message] = elapsed
        self.info(f"{message} done in {elapsed:.2f}s")

    def _stop(self, status: Status | None) -> None:
        if self.sink is not None:
            self.sink.end()
        elif status is not None:
            status.stop()
