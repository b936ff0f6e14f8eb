"""``TrainingJob``: the handle ``Estimator.fit()`` (and the runner) returns, the same for every backend."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JobError, JobFailedError, JobStoppedError, JobTimeoutError, ParameterError
from .causes import cause
from .pathcheck import seconds_problem
from .phase import JobPhase

if TYPE_CHECKING:
    import pluggy

    from .backend import Execution
    from .flavors import Usage
    from .job import JobConfig
    from .runtime import PythonRuntime


DEFAULT_TAIL = 30
class TrainingJob:
    """A training job started by :meth:`~pytest_modelarts.Estimator.fit`.

    ``wait()`` blocks until the end, ``phase`` tells where it is, ``stop()`` terminates it and everything it
    started, ``raise_for_status()`` turns Failed/Terminated into an exception carrying the last log lines.
    A job is also a context manager that stops it on exit if it is still running.
    """

    def __init__(
        self,
        *,
        config: JobConfig,
        job_id: str,
        backend: str,
        execution: Execution,
        hook: pluggy.HookRelay,
        runtime: PythonRuntime | None,
    ) -> None:
        self.config = config
        self.job_id = job_id
        self.backend = backend
        self.runtime = runtime
        self._execution = execution
        self._hook = hook
        self._started_at = time.time()
        self._started_mono = time.monotonic()
        self._finished_mono: float | None = None
        self._finished_lock = threading.Lock()
        self._finished_announced = False

    # -- identity -------------------------------------------------------------------------------------
    @property
    def job_name(self) -> str:
        return self.config.job_name

    def __repr__(self) -> str:
        return f"<TrainingJob {self.job_name!r} id={self.job_id} backend={self.backend} phase={self.phase.value}>"

    # -- state ----------------------------------------------------------------------------------------
    @property
    def phase(self) -> JobPhase:
        phase = self._execution.phase()
        if phase.is_final:
            self._announce_finished()
        return phase

    status = phase  # the ModelArts SDK's name

    @property
    def exit_code(self) -> int | None:
        return self._execution.exit_code

    @property
    def duration(self) -> float:
        """Seconds from start to the end (or to now while running)."""
        end = self._finished_mono if self._finished_mono is not None else time.monotonic()
        return end - self._started_mono

    @property
    def output_path(self) -> str | None:
        return self._execution.output_location

    @property
    def sandbox(self) -> Path | None:
        return self._execution.sandbox

    @property
    def command(self) -> list[str] | None:
        return list(self._execution.command) if self._execution.command is not None else None

    @property
    def output_conflicts(self) -> list[str]:
        """Output files that workers of a multi-node job wrote with different contents (see docs/contract.md)."""
        return self._execution.output_conflicts

    @property
    def lost_writes(self) -> list[str]:
        """Files the job created, changed or deleted outside ``train_url``, ``/cache`` and ``/tmp`` (sandboxed
        local runs): online they are lost, so the smoke test reports them."""
        return self._execution.lost_writes

    @property
    def failure_reason(self) -> str | None:
        return self._execution.failure_reason

    def usage(self) -> Usage | None:
        """Each worker's peak memory under the job's limits (its flavor's), once it ended; None where unknown."""
        return self._execution.usage()

    @property
    def failed_worker(self) -> int | None:
        """The index of the worker whose failure failed the job, as its backend knows it; None when no worker did
        (still running, completed, stopped, outputs not delivered) or the backend cannot tell (online)."""
        return self._execution.failed_worker

    # -- control --------------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None, *, stop_on_timeout: bool = True) -> JobPhase:
        """Wait for a final phase and return it.

        When ``timeout`` seconds pass first, the job is stopped (unless ``stop_on_timeout=False``) and
        :class:`~pytest_modelarts.errors.JobTimeoutError` is raised. Ctrl-C while waiting stops the job, then
        lets the ``KeyboardInterrupt`` through: an interrupted job is Terminated, never Completed.
        """
        if timeout is not None and seconds_problem(timeout, zero=True) is not None:
            raise ParameterError("wait", "timeout", timeout, "must be a number of seconds >= 0, or None to wait until the end")
        try:
            phase = self._execution.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise
        if not phase.is_final:
            if stop_on_timeout:
                self._execution.dump_stacks()  # where it was stuck, into the log, before it is stopped
                self.stop()
            raise self._error(JobTimeoutError, f"job {self.job_name!r} did not finish within {timeout} s"
                              + ("; it was stopped" if stop_on_timeout else ""))
        self._announce_finished()
        return phase

    def stop(self) -> None:
        """Terminate the job and all it started (SIGTERM, a grace period, then SIGKILL)."""
        self._execution.stop()
        self._announce_finished()

    stop_job_version = stop  # the ModelArts SDK's name

    def raise_for_status(self) -> TrainingJob:
        """Raise for a Failed or Terminated job; return the job otherwise."""
        phase = self.phase
        if phase in (JobPhase.FAILED, JobPhase.ABNORMAL):
            reason = f" ({self.failure_reason})" if self.failure_reason else ""
            raise self._error(JobFailedError, f"job {self.job_name!r} failed with exit code {self.exit_code}{reason}")
        if phase is JobPhase.TERMINATED:
            raise self._error(JobStoppedError, f"job {self.job_name!r} was stopped before it completed")
        return self

    def _error(self, kind: type[JobError], summary: str) -> JobError:
        """``kind`` with the fields a report shows: the failing worker, its cause and last lines (worker 0's when
        no worker failed the job)."""
        worker = self.failed_worker
        return kind(summary, job=self, log_tail=self.tail(worker=worker or 0), exit_code=self.exit_code,
                    failed_worker=worker, cause=cause(self), logs=self.log_locations())

    def __enter__(self) -> TrainingJob:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._execution.phase().is_final:
            self.stop()

    # -- logs -----------------------------------------------------------------------------------------
    def get_job_log_file_list(self) -> list[str]:
        return self._execution.log_names()

    def get_job_log(self, log_file: str | None = None, offset: int = 0, size: int | None = None) -> str:
        """Text of a log file from byte ``offset`` (the ModelArts SDK's paging)."""
        return self._execution.read_log(log_file, offset, size).decode("utf-8", "replace")

    def logs(self, worker: int | str | None = None) -> str:
        """The whole log of a worker (default: worker 0)."""
        name = self._log_name(worker)
        return self.get_job_log(name)

    def tail(self, n: int = DEFAULT_TAIL, worker: int | str | None = None) -> list[str]:
        """The last ``n`` lines of a worker's log (default: worker 0), read from its end: memory in O(tail), whatever
        the log's size."""
        return self._execution.tail(n, self._log_name(worker))

    def log_locations(self) -> list[str]:
        """Where each worker's log is: a local path for local runs, a log name online."""
        return self._execution.log_locations()

    def _log_name(self, worker: int | str | None) -> str | None:
        if worker is None or isinstance(worker, str):
            return worker
        return self._execution.log_names()[worker]

    # -- info -----------------------------------------------------------------------------------------
    def get_job_info(self) -> dict[str, Any]:
        """What the ModelArts SDK's ``get_job_info`` tells, plus the v2 phase and our local details."""
        phase = self.phase
        info: dict[str, Any] = {
            "job_name": self.job_name,
            "job_id": self.job_id,
            "status": phase.v1_status,
            "phase": phase.value,
            "exit_code": self.exit_code,
            "duration": round(self.duration, 3),
            "create_time": int(self._started_at * 1000),
            "train_instance_type": self.config.train_instance_type,
            "train_instance_count": self.config.train_instance_count,
            "backend": self.backend,
            "output_path": self.output_path,
            "environment": self.runtime.describe() if self.runtime else None,
            "env_hash": self.runtime.env_hash if self.runtime else None,
        }
        info.update(self._execution.info())
        return info

    def _announce_finished(self) -> None:
        with self._finished_lock:
            if self._finished_announced:
                return
            self._finished_announced = True
            self._finished_mono = time.monotonic()
        self._hook.pytest_modelarts_job_finished(job=self)
