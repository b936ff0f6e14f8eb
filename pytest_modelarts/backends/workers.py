"""What the local backends share: a job of N workers in a sandbox on this machine.

:class:`WorkerJob` holds the bookkeeping of the ``local`` (processes) and ``docker`` (containers) backends:
the phases, ModelArts' fail-fast rule for multi-node jobs (one worker fails: the job fails and the others are
stopped), the exit code and phase decision, the per-worker log files, live echo of the logs, and delivery of
outputs whatever the end. A backend says only how its workers report an exit code, how they are stopped,
how to wait for a change, and what to release at the end.
"""

from __future__ import annotations

import abc
import contextlib
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..core.backend import Execution
from ..core.phase import JobPhase
from ..errors import BackendError
from . import sandbox as sb

if TYPE_CHECKING:
    from ..core.job import JobConfig
    from ..core.session import Session

POLL = 0.05
CHUNK = 1 << 20  # what the log follower reads at once
TAIL_BLOCK = 64 * 1024
TAIL_LIMIT = 4 * 1024 * 1024  # a tail of very long lines stops here: its last bytes are what counts


class LogFollower(threading.Thread):
    """Echoes what is appended to log files, line by line, prefixed with the worker when there are several."""

    def __init__(self, files: list[Path], out: IO[str], prefixes: list[str]) -> None:
        super().__init__(daemon=True, name="modelarts-log-follower")
        self.files = files
        self.out = out
        self.prefixes = prefixes
        self.done = threading.Event()
        self.position = 0  # bytes read so far, over all files

    def run(self) -> None:
        handles: dict[int, IO[bytes]] = {}
        pending = [b""] * len(self.files)
        try:
            while True:
                finished = self.done.is_set()  # read before the files: what was written before it is all echoed
                progressed = False
                for i, path in enumerate(self.files):
                    if i not in handles:
                        with contextlib.suppress(FileNotFoundError):
                            handles[i] = open(path, "rb")
                    if i in handles:
                        chunk = handles[i].read(CHUNK)  # bounded: a fast, huge log never sits in memory whole
                        progressed = progressed or bool(chunk)
                        self.position += len(chunk)
                        pending[i] += chunk
                        *lines, pending[i] = pending[i].split(b"\n")
                        if len(pending[i]) > CHUNK:  # a line longer than a chunk: echo it in pieces
                            lines.append(pending[i])
                            pending[i] = b""
                        if finished and not chunk and pending[i]:
                            lines.append(pending[i])
                            pending[i] = b""
                        for line in lines:
                            self._emit(self.prefixes[i] + line.decode("utf-8", "replace"))
                if finished and not progressed:  # the job is over and every log is echoed to its end
                    return
                if not progressed:
                    self.done.wait(POLL)
        finally:
            for handle in handles.values():
                handle.close()

    def finish(self, stall: float = 5.0) -> None:
        """Let the echo reach the end of the logs; give up only when it makes no progress for ``stall`` seconds
        (an output stream that blocks), never because the log is long."""
        self.done.set()
        seen = -1
        while self.is_alive() and self.position != seen:
            seen = self.position
            self.join(stall)

    def _emit(self, text: str) -> None:
        with contextlib.suppress(Exception):  # a closed or captured stream must not kill the job's bookkeeping
            self.out.write(text + "\n")
            self.out.flush()


class OutputSync(threading.Thread):
    """Copies what workers wrote to their ``train_url`` into ``output_path`` while the job runs, as ModelArts does
    (its outputs are uploaded ``upload_periodically``, every 30 s by default): a job killed later keeps what was
    synced. Each file arrives whole (a copy, then a rename); worker 0's files win, as at the final delivery."""

    def __init__(self, sources: list[Path], target: Path, period: float) -> None:
        super().__init__(daemon=True, name="modelarts-output-sync")
        self.sources = sources
        self.target = target
        self.period = period
        self.done = threading.Event()
        self._seen: dict[Path, tuple[int, int]] = {}

    def run(self) -> None:
        while not self.done.wait(self.period):
            with contextlib.suppress(OSError):  # a file that vanished or is being replaced: next round
                self.sync_once()

    def sync_once(self) -> None:
        for source in reversed(self.sources):
            for path in source.rglob("*"):
                if not path.is_file() or path.is_symlink():
                    continue
                stat = path.stat()
                mark = (stat.st_size, stat.st_mtime_ns)
                if self._seen.get(path) == mark:
                    continue
                rel = path.relative_to(source)
                dest = self.target / rel
                if any((self.target / Path(*rel.parts[:k])).is_symlink() for k in range(1, len(rel.parts) + 1)):
                    continue  # never through a link (the final delivery reports it)
                dest.parent.mkdir(parents=True, exist_ok=True)
                sb.place_whole(path, dest)
                self._seen[path] = mark


class WorkerJob(Execution):
    """A job of ``len(commands)`` workers whose logs and outputs live in ``box``."""

    def __init__(self, config: JobConfig, session: Session, box: sb.Sandbox, commands: Sequence[Sequence[str]]) -> None:
        self.config = config
        self.session = session
        self.sandbox = box.root
        self.command: list[str] = list(commands[0])  # always known here (the base class allows None)
        self._box = box
        self._n = len(commands)
        self._lock = threading.RLock()
        self._stop_requested = False
        self._final: JobPhase | None = None
        self._exit_code: int | None = None
        self._failed_worker: int | None = None
        self._follower: LogFollower | None = None
        self._sync: OutputSync | None = None
        self._conflicts: list[sb.OutputConflict] = []
        self.delivery_error: str | None = None  # why the outputs did not reach output_path (the job then failed)

    # -- what a backend provides ----------------------------------------------------------------------
    @abc.abstractmethod
    def _codes(self) -> list[int | None]:
        """Each worker's exit code, None while it runs."""

    @abc.abstractmethod
    def _stop_workers(self, workers: list[int]) -> None:
        """Stop these workers (SIGTERM, the grace period, SIGKILL) and return once they have ended."""

    @abc.abstractmethod
    def _wait_for_change(self, timeout: float | None) -> None:
        """Block until a worker may have ended, or ``timeout`` seconds (None: a backend-chosen while)."""

    def _worker_failure(self) -> str | None:
        """Why the failing worker failed, beyond its exit code (out of memory...); None: nothing to add."""
        return None

    @property
    def failure_reason(self) -> str | None:
        # outputs that could not be delivered fail a job whose workers all succeeded
        return self._worker_failure() or self.delivery_error

    def _release(self) -> None:
        """Once every worker has ended: free what the job held (containers, pipes); before outputs are delivered."""

    def _deliver(self) -> None:
        """Copy outputs to output_path and logs to log_url, as the platform uploads them."""
        self._conflicts = sb.deliver(self.config, self._box)

    # -- the shared bookkeeping -------------------------------------------------------------------------
    def _follow_logs(self) -> None:
        """Follow the job while it runs: echo its logs live (when the session asks), sync its outputs periodically."""
        period = self.session.output_sync_period
        if period:
            sources = [self._box.train_url(i) for i in range(self._n)]
            self._sync = OutputSync(sources, sb.output_location(self.config, self._box), period)
            self._sync.start()
        if self.session.stream_logs:
            prefixes = [f"[worker-{i}] " if self._n > 1 else "" for i in range(self._n)]
            self._follower = LogFollower([self._box.log_file(i) for i in range(self._n)], sys.stdout, prefixes)
            self._follower.start()

    def _refresh(self) -> JobPhase:
        with self._lock:
            if self._final is not None:
                return self._final
            codes = self._codes()
            running = [i for i, c in enumerate(codes) if c is None]
            failed = next((i for i, c in enumerate(codes) if c not in (None, 0)), None)
            if failed is not None and running and not self._stop_requested and self._failed_worker is None:
                # one worker failed: the job fails and the others are stopped, as on ModelArts
                self._failed_worker = failed
                self._stop_workers(running)
                codes = self._codes()
            if any(c is None for c in codes):
                return JobPhase.TERMINATING if self._stop_requested else JobPhase.RUNNING
            return self._finish([c if c is not None else -1 for c in codes])

    def _finish(self, codes: list[int]) -> JobPhase:
        if self._failed_worker is None and not self._stop_requested:
            self._failed_worker = next((i for i, c in enumerate(codes) if c != 0), None)
        if self._failed_worker is not None:
            phase, self._exit_code = JobPhase.FAILED, codes[self._failed_worker]
        elif self._stop_requested:
            phase, self._exit_code = JobPhase.TERMINATED, next((c for c in codes if c != 0), 0)
        else:
            phase, self._exit_code = JobPhase.COMPLETED, 0
        try:
            self._release()
            if self._follower is not None:
                self._follower.finish()
            if self._sync is not None:  # the final delivery follows: the periodic one stops first
                self._sync.done.set()
                self._sync.join(timeout=30)
            try:
                self._deliver()
            except sb.DeliveryError as exc:  # outputs that do not arrive fail the job, as an upload failure does online
                phase, self.delivery_error = JobPhase.FAILED, str(exc)
                self._log_note(str(exc))
        finally:
            self._final = phase  # final only once outputs are where the user expects them
        return phase

    def _log_note(self, *lines: str) -> None:
        """Add ``[pytest-modelarts]`` lines to worker 0's log; a log that cannot be written fails nothing."""
        with contextlib.suppress(OSError), open(self._box.log_file(0), "ab") as log:
            log.write("".join(f"[pytest-modelarts] {line}\n" for line in lines).encode())

    def phase(self) -> JobPhase:
        return self._refresh()

    def wait(self, timeout: float | None = None) -> JobPhase:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            phase = self._refresh()
            if phase.is_final:
                return phase
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return phase
            self._wait_for_change(left)

    def stop(self) -> None:
        with self._lock:
            if self._refresh().is_final:
                return
            self._stop_requested = True
            self._stop_workers([i for i, c in enumerate(self._codes()) if c is None])
            self._refresh()

    # -- results --------------------------------------------------------------------------------------
    @property
    def exit_code(self) -> int | None:
        self._refresh()
        return self._exit_code

    def log_names(self) -> list[str]:
        return [self._box.log_name(i) for i in range(self._n)]

    @property
    def failed_worker(self) -> int | None:
        self._refresh()
        return self._failed_worker

    def _log_path(self, name: str | None) -> Path:
        name = name or self.log_names()[0]
        if name not in self.log_names():
            raise BackendError(f"no log {name!r}; the logs are: {', '.join(self.log_names())}")
        return self._box.log_dir / name

    def read_log(self, name: str | None = None, offset: int = 0, size: int | None = None) -> bytes:
        try:
            with open(self._log_path(name), "rb") as fh:
                fh.seek(offset)
                return fh.read() if size is None else fh.read(size)
        except FileNotFoundError:
            return b""

    def tail(self, lines: int, name: str | None = None) -> list[str]:
        # backwards, block by block, up to TAIL_LIMIT: memory and time in O(tail), whatever the log's size
        if lines <= 0:
            return []
        blocks: list[bytes] = []
        newlines = 0
        try:
            with open(self._log_path(name), "rb") as fh:
                end = pos = fh.seek(0, 2)
                while pos > 0 and newlines <= lines and end - pos < TAIL_LIMIT:
                    step = min(TAIL_BLOCK, pos)
                    pos -= step
                    fh.seek(pos)
                    blocks.append(fh.read(step))
                    newlines += blocks[-1].count(b"\n")
        except FileNotFoundError:
            return []
        text = b"".join(reversed(blocks)).decode("utf-8", "replace").splitlines()
        if pos > 0 and len(text) > 1:
            text = text[1:]  # the first line read is most likely cut
        return text[-lines:]

    def log_locations(self) -> list[str]:
        return [str(self._box.log_file(i)) for i in range(self._n)]

    @property
    def output_conflicts(self) -> list[str]:
        return [str(c) for c in self._conflicts]

    @property
    def output_location(self) -> str:
        return str(sb.output_location(self.config, self._box))

    def info(self) -> dict[str, Any]:
        return {"sandbox": str(self._box.root), "command": list(self.command),
                "log_files": self.log_locations(),
                "output_conflicts": self.output_conflicts, "delivery_error": self.delivery_error}
