"""``JobResult``: easy assertions on a finished training job (what the ``modelarts_job`` fixture returns).

Metrics are read from the log of worker 0: each line that is a JSON object (``{"epoch": 1, "loss": 0.3}``)
or consists only of ``key=value`` pairs (``epoch=1 loss=0.3``, also separated by commas) is one metrics
record. Numbers become ``int``/``float``; other values stay ``str``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.location import Location
from ..core.phase import JobPhase
from ..core.training_job import TrainingJob
from ..errors import JobError

_KV = re.compile(r"^\s*([A-Za-z_][\w.\-/]*)\s*=\s*(\S+?)\s*$")


def parse_metrics_line(line: str) -> dict[str, Any] | None:
    """The metrics a log line carries (a JSON object or ``key=value`` pairs), None when it carries none."""
    text = line.strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) and data else None
    if "=" not in text:
        return None
    parts = [p for p in re.split(r"[\s,]+(?=[A-Za-z_][\w.\-/]*\s*=)", text) if p.strip()]
    record: dict[str, Any] = {}
    for part in parts:
        match = _KV.match(part.rstrip(","))
        if not match:
            return None
        record[match.group(1)] = _number(match.group(2))
    return record or None


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class JobResult:
    """A finished :class:`~pytest_modelarts.TrainingJob` seen from a test.

    ``result.succeeded``, ``result.exit_code``, ``result.files()``, ``result.log_lines``,
    ``result.metrics``, ``result.metric("loss")``, and ``assert_*`` helpers whose failures say what was
    found instead.
    """

    def __init__(self, job: TrainingJob) -> None:
        self.job = job

    def __repr__(self) -> str:
        return f"<JobResult {self.job.job_name!r} {self.phase.value} exit_code={self.exit_code}>"

    # -- status ---------------------------------------------------------------------------------------
    @property
    def phase(self) -> JobPhase:
        return self.job.phase

    @property
    def exit_code(self) -> int | None:
        return self.job.exit_code

    @property
    def succeeded(self) -> bool:
        return self.phase is JobPhase.COMPLETED

    @property
    def duration(self) -> float:
        return self.job.duration

    @property
    def sandbox(self) -> Path | None:
        return self.job.sandbox

    @property
    def command(self) -> list[str] | None:
        return self.job.command

    def raise_for_status(self) -> JobResult:
        self.job.raise_for_status()
        return self

    # -- outputs --------------------------------------------------------------------------------------
    @property
    def train_url(self) -> Path:
        """Where the job's outputs were delivered (its ``output_path``, or the sandbox's default)."""
        location = self.job.output_path
        if location is None or Location(location).is_remote:
            raise JobError(f"job {self.job.job_name!r} has no local outputs (output_path={location!r})", job=self.job,
                           exit_code=self.exit_code, logs=self.job.log_locations())
        return Location(location).path

    def files(self) -> list[str]:
        """Relative POSIX paths of every file in train_url, sorted."""
        root = self.train_url
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def file(self, relative: str) -> Path:
        return self.train_url / relative

    def has_file(self, relative: str) -> bool:
        return (self.train_url / relative).is_file()

    # -- logs and metrics -----------------------------------------------------------------------------
    @property
    def log(self) -> str:
        return self.job.logs()

    @property
    def log_lines(self) -> list[str]:
        return self.log.splitlines()

    def tail(self, n: int = 20) -> list[str]:
        return self.job.tail(n)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every metrics record the boot file printed, in order."""
        return [m for m in (parse_metrics_line(line) for line in self.log_lines) if m is not None]

    def metric(self, name: str) -> list[Any]:
        """The values of one metric, in the order printed."""
        return [m[name] for m in self.metrics if name in m]

    def last_metrics(self) -> dict[str, Any]:
        """The latest value of every metric."""
        last: dict[str, Any] = {}
        for record in self.metrics:
            last.update(record)
        return last

    # -- assertions -----------------------------------------------------------------------------------
    def assert_succeeded(self) -> JobResult:
        assert self.succeeded, f"job {self.job.job_name!r} is {self.phase.value} (exit code {self.exit_code})"
        return self

    def assert_file(self, *relative: str) -> JobResult:
        __tracebackhide__ = True  # the failure is the test's line, not ours
        missing = [r for r in relative if not self.has_file(r)]
        if missing:
            found = f"missing in train_url {self.train_url}: {', '.join(missing)}; found: {', '.join(self.files()) or 'nothing'}"
            elsewhere = [hint for name in missing if (hint := self._written_elsewhere(name))]
            raise AssertionError("; ".join(elsewhere) + f"\n{found}" if elsewhere else found)
        return self

    def _written_elsewhere(self, name: str) -> str | None:
        """Where the job wrote ``name`` instead of train_url (the working directory, usually), with the fix."""
        base = name.rsplit("/", 1)[-1]
        places = [w.split(" (", 1)[0] for w in self.job.lost_writes if w.split(" (", 1)[0].rsplit("/", 1)[-1] == base]
        if not places and self.job.sandbox is not None:  # a relocated run sees no lost writes: look in its tree
            places = [str(p.relative_to(self.job.sandbox)) for p in Path(self.job.sandbox).glob(f"**/user-job-dir/**/{base}")
                      if p.is_file()][:3]
        if not places:
            return None
        return (f"{name} was written to {', '.join(places)} (the working directory, MA_JOB_DIR), not under --train_url: "
                f"ModelArts keeps only train_url; fix: write it to os.path.join(args.train_url, {base!r})")

    def assert_log_contains(self, *texts: str) -> JobResult:
        log = self.log
        missing = [t for t in texts if t not in log]
        assert not missing, f"not in the log of {self.job.job_name!r}: {missing!r}; last lines:\n" + "\n".join(self.tail())
        return self

    def assert_decreased(self, name: str = "loss") -> JobResult:
        """The last value of metric ``name`` is below its first (at least two values printed)."""
        values = self._numeric(name)
        assert len(values) >= 2, f"metric {name!r} printed {len(values)} time(s); need two to tell a decrease: {values}"
        assert values[-1] < values[0], f"metric {name!r} did not decrease: first {values[0]}, last {values[-1]} ({values})"
        return self

    def assert_increased(self, name: str) -> JobResult:
        values = self._numeric(name)
        assert len(values) >= 2, f"metric {name!r} printed {len(values)} time(s); need two to tell an increase: {values}"
        assert values[-1] > values[0], f"metric {name!r} did not increase: first {values[0]}, last {values[-1]} ({values})"
        return self

    def assert_metric(self, name: str, *, min: float | None = None, max: float | None = None) -> JobResult:  # noqa: A002
        """The last value of metric ``name`` lies within [min, max]."""
        values = self._numeric(name)
        assert values, f"metric {name!r} was never printed; metrics seen: {sorted(self.last_metrics())}"
        last = values[-1]
        assert min is None or last >= min, f"metric {name!r} is {last}, below the minimum {min}"
        assert max is None or last <= max, f"metric {name!r} is {last}, above the maximum {max}"
        return self

    def _numeric(self, name: str) -> list[float]:
        values = self.metric(name)
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v)]
        assert not bad, f"metric {name!r} has non-numeric values: {bad!r}"
        return [float(v) for v in values]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.metrics)
