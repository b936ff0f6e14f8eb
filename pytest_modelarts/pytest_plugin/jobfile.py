"""Job files: ``*.modelarts.toml`` / ``*.modelarts.yaml`` / ``*.modelarts.yml`` collected as smoke tests.

::

    [defaults]                    # optional: keys shared by every job
    code_dir = "mnist_mlp"        # relative to this file
    boot_file = "train.py"
    train_instance_type = "modelarts.vm.cpu.2u"

    [[job]]                       # one test item per job, named by ``name``
    name = "mnist-mlp"
    hyperparameters = { epochs = 30, hidden = 64 }
    smoke_hyperparameters = { epochs = 5, max_samples = 300 }

    [job.expect]                  # optional checks after the job completed
    files = ["model.pkl"]         # must exist in train_url
    decreasing = ["loss"]         # metrics whose last value is below the first
    log_contains = ["done"]
    metrics = { accuracy = { min = 0.5 } }
    exit_code = 0                 # expect a failure instead: any other exit code

Every key of a job (and of ``defaults``) is a keyword of the ``modelarts`` marker, plus ``name`` and
``expect``. YAML files have the same shape (``defaults:`` and a ``job:`` list).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import ConfigurationError, JobError, JobFileError, ParameterError
from .documents import read_document
from .marker import PARAMETERS, SmokeSpec, build_spec
from .result import JobResult
from .stash import FAILURE_KEY, RUNNER_KEY, SPEC_KEY

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

SUFFIXES = (".modelarts.toml", ".modelarts.yaml", ".modelarts.yml")
TOP_KEYS = ("defaults", "job")
JOB_KEYS = ("name", "expect", *PARAMETERS)
EXPECT_KEYS = ("files", "decreasing", "increasing", "log_contains", "metrics", "exit_code")


@dataclass(frozen=True)
class Expectations:
    files: tuple[str, ...] = ()
    decreasing: tuple[str, ...] = ()
    increasing: tuple[str, ...] = ()
    log_contains: tuple[str, ...] = ()
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    exit_code: int = 0

    def check(self, result: JobResult) -> None:
        if self.exit_code != 0:
            assert result.exit_code == self.exit_code, (
                f"expected exit code {self.exit_code}, the job ended {result.phase.value} with exit code {result.exit_code}"
            )
        else:
            result.raise_for_status()
        if self.files:
            result.assert_file(*self.files)
        for name in self.decreasing:
            result.assert_decreased(name)
        for name in self.increasing:
            result.assert_increased(name)
        if self.log_contains:
            result.assert_log_contains(*self.log_contains)
        for name, bounds in self.metrics.items():
            result.assert_metric(name, min=bounds.get("min"), max=bounds.get("max"))


def _str_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JobFileError(f"{where}: key 'expect.{key}': must be a list of str, got {value!r}")
    return tuple(value)


def parse_expectations(where: str, data: Any) -> Expectations:
    if data is None:
        return Expectations()
    if not isinstance(data, Mapping):
        raise JobFileError(f"{where}: key 'expect': must be a table of {', '.join(EXPECT_KEYS)}")
    if unknown := sorted(set(data) - set(EXPECT_KEYS)):
        raise JobFileError(f"{where}: key 'expect.{unknown[0]}': unknown; the keys of expect are {', '.join(EXPECT_KEYS)}")
    kwargs: dict[str, Any] = {}
    for key in ("files", "decreasing", "increasing", "log_contains"):
        if key in data:
            kwargs[key] = _str_list(where, key, data[key])
    if "metrics" in data:
        metrics = data["metrics"]
        if not isinstance(metrics, Mapping):
            raise JobFileError(f"{where}: key 'expect.metrics': must be a table like {{ accuracy = {{ min = 0.5 }} }}")
        for name, bounds in metrics.items():
            ok = isinstance(bounds, Mapping) and bounds and set(bounds) <= {"min", "max"} and all(
                isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds.values())
            if not ok:
                raise JobFileError(f"{where}: key 'expect.metrics.{name}': must be a table with numbers min and/or max, got {bounds!r}")
        kwargs["metrics"] = dict(metrics)
    if "exit_code" in data:
        code = data["exit_code"]
        if isinstance(code, bool) or not isinstance(code, int):
            raise JobFileError(f"{where}: key 'expect.exit_code': must be an int, got {code!r}")
        kwargs["exit_code"] = code
    return Expectations(**kwargs)


def load_job_file(path: Path) -> list[tuple[str, SmokeSpec]]:
    """The jobs of a job file as (name, spec) pairs, as written; :class:`JobFileError` names the file, the key and
    the problem. :func:`build_job_file` builds their job configurations."""
    data = read_document(path)
    if not isinstance(data, Mapping):
        raise JobFileError(f"{path}: must be a table with the keys {', '.join(TOP_KEYS)}")
    if unknown := sorted(set(data) - set(TOP_KEYS)):
        raise JobFileError(f"{path}: key {unknown[0]!r}: unknown top-level key; the keys are {', '.join(TOP_KEYS)} ([defaults] and [[job]])")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise JobFileError(f"{path}: key 'defaults': must be a table")
    jobs = data.get("job")
    if not isinstance(jobs, list) or not jobs:
        raise JobFileError(f"{path}: key 'job': at least one job is required ([[job]] with a name)")
    if bad := sorted(set(defaults) - set(PARAMETERS)):
        raise JobFileError(f"{path}: key 'defaults.{bad[0]}': unknown; the keys are {', '.join(PARAMETERS)}")
    result: list[tuple[str, SmokeSpec]] = []
    seen: set[str] = set()
    for index, entry in enumerate(jobs):
        where = f"{path}: job[{index}]"
        if not isinstance(entry, Mapping):
            raise JobFileError(f"{where}: must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise JobFileError(f"{where}: key 'name': is required (a non-empty str naming the test)")
        where = f"{path}: job {name!r}"
        if name in seen:
            raise JobFileError(f"{where}: key 'name': {name!r} is used twice")
        seen.add(name)
        if unknown := sorted(set(entry) - set(JOB_KEYS)):
            from difflib import get_close_matches

            close = get_close_matches(unknown[0], JOB_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise JobFileError(f"{where}: key {unknown[0]!r}: unknown{hint}; the keys are {', '.join(JOB_KEYS)}")
        values = {**defaults, **{k: v for k, v in entry.items() if k not in ("name", "expect")}}
        expect = parse_expectations(where, entry.get("expect"))
        try:
            spec = build_spec(values, path.parent, expect=expect)
        except ConfigurationError as exc:
            raise _key_error(where, exc) from None
        if not spec.runs_a_job:
            raise JobFileError(f"{where}: key 'code_dir': is required: give code_dir and boot_file (here or in [defaults])")
        result.append((name, spec))
    return result


def build_job_file(path: Path, configure: Callable[[SmokeSpec, str], SmokeSpec]) -> list[tuple[str, SmokeSpec]]:
    """The jobs of a job file, each with the job configurations ``configure(spec, name)`` builds (the job rules:
    directories exist, the boot file lies inside code_dir...); :class:`JobFileError` names the key of a bad value."""
    result = []
    for name, spec in load_job_file(path):
        try:
            result.append((name, configure(spec, name)))
        except ConfigurationError as exc:
            raise _key_error(f"{path}: job {name!r}", exc) from None
    return result


def _key_error(where: str, exc: ConfigurationError) -> JobFileError:
    key = f"key {exc.parameter!r}: " if isinstance(exc, ParameterError) else ""
    return JobFileError(f"{where}: {key}{exc}")


class ModelArtsFile(pytest.File):
    """A job file: one :class:`ModelArtsJobItem` per job."""

    def collect(self) -> Iterator[ModelArtsJobItem]:
        try:
            jobs = build_job_file(self.path, self.config.stash[RUNNER_KEY].configure)
        except JobFileError as exc:
            raise self.CollectError(str(exc)) from None
        for name, spec in jobs:
            item = ModelArtsJobItem.from_parent(self, name=name)
            item.stash[SPEC_KEY] = spec
            yield item


class ModelArtsJobItem(pytest.Item):
    """One job of a job file, run as a smoke test; its configuration is in the stash (``SPEC_KEY``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker("modelarts")

    def runtest(self) -> None:
        result = self.config.stash[RUNNER_KEY].run_smoke(self)
        expect = self.stash[SPEC_KEY].expect or Expectations()
        if expect.exit_code == 0 and FAILURE_KEY in self.stash:
            raise self.stash[FAILURE_KEY]
        expect.check(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, JobError):
            return self.config.stash[RUNNER_KEY].format_failure(excinfo.value)
        if isinstance(excinfo.value, AssertionError):
            return f"{self.path.name}::{self.name}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, None, f"modelarts job {self.name}"

