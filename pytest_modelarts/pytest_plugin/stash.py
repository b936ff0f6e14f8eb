"""What the plugin keeps on pytest's config and items (stash keys), and what a job file's item needs of the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..errors import JobError

if TYPE_CHECKING:
    from .marker import SmokeSpec
    from .result import JobResult


class Runner(Protocol):
    """The part of the smoke runner that a job file's item uses (see smoke.SmokeRunner)."""

    def configure(self, spec: SmokeSpec, name: str) -> SmokeSpec: ...

    def run_smoke(self, item: pytest.Item) -> JobResult: ...

    def format_failure(self, exc: JobError) -> str: ...


RUNNER_KEY = pytest.StashKey[Runner]()
SPEC_KEY = pytest.StashKey["SmokeSpec"]()  # with the job configurations built at collection
PROBLEM_KEY = pytest.StashKey[str]()  # a marker added after collection that cannot be built
FAILURE_KEY = pytest.StashKey[JobError]()
PASSED_KEY = pytest.StashKey[bool]()
PROMOTIONS_KEY = pytest.StashKey[list[dict[str, Any]]]()

