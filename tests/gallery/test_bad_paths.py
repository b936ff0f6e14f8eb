"""A gallery of bad paths and limits: every path parameter given a symlink loop, a pseudo file system (/proc, /sys,
a device), a NUL byte, a path over PATH_MAX or a name over NAME_MAX, a file where a folder must be; numbers beyond
what a timer or the kernel takes; two pins of one package; installer options as packages.

As in ``test_bad_inputs.py`` (whose harness this reuses): each case must end in an error of the project's own
types, before anything runs or is written, naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import CondaDependencies, Environment, Session

from .test_bad_inputs import Case, Ctx, assert_refused_before_anything_runs, est, fit, hp, marker, started
from .test_bad_inputs import ctx as ctx  # noqa: F401  (fixture)

# --- bad places, made in the case's temporary folder -----------------------------------------------------

def loop(c: Ctx) -> str:
    """A symlink loop: a -> b -> a."""
    (c.tmp / "loop-a").symlink_to(c.tmp / "loop-b")
    (c.tmp / "loop-b").symlink_to(c.tmp / "loop-a")
    return str(c.tmp / "loop-a")


def loop_below(c: Ctx) -> str:
    return loop(c) + "/below"


def a_file(c: Ctx) -> str:
    (c.tmp / "a-file").write_text("x")
    return str(c.tmp / "a-file")


def below_a_file(c: Ctx) -> str:
    return a_file(c) + "/below"


def too_long(c: Ctx) -> str:
    return str(c.tmp / "/".join(["d" * 200] * 25))  # over PATH_MAX (4096)


def long_name(c: Ctx) -> str:
    return str(c.tmp / ("n" * 300))  # a name over NAME_MAX (255)


PLACES: dict[str, Callable[[Ctx], str]] = {
    "loop": loop,
    "loop-below": loop_below,
    "proc": lambda c: "/proc/self/modelarts",
    "sys": lambda c: "/sys/kernel/modelarts",
    "dev-null-below": lambda c: "/dev/null/modelarts",
    "nul": lambda c: str(c.tmp / "a\0b"),
    "path-max": too_long,
    "name-max": long_name,
}
#: a folder the run writes (it may not exist yet): also refused when a file is in its place, or above it
WRITTEN = {**PLACES, "a-file": a_file, "below-a-file": below_a_file}
#: a folder or file the run reads (it must exist)
READ = {**PLACES, "proc-itself": lambda c: "/proc/self", "sys-itself": lambda c: "/sys/kernel"}

PARAMETERS: dict[str, tuple[dict[str, Callable[[Ctx], str]], Callable[[Ctx, str], Any]]] = {
    "local_root": (WRITTEN, lambda c, p: Session(local_root=p)),
    "cache_dir": (WRITTEN, lambda c, p: Session(cache_dir=p)),
    "output_path": (WRITTEN, lambda c, p: est(c, output_path=p)),
    "log_url": (WRITTEN, lambda c, p: est(c, log_url=p)),
    "obs_root": (WRITTEN, lambda c, p: est(c, obs_root=p)),
    "code_dir": (READ, lambda c, p: est(c, code_dir=p)),
    "inputs": (READ, lambda c, p: fit(c, inputs=p)),
    "lock_file": ({k: v for k, v in WRITTEN.items() if k != "a-file"}, lambda c, p: Environment("e", lock_file=p)),
}

PATHS: list[Case] = [
    Case(f"{parameter}-{kind}", parameter, lambda c, make=make, call=call: call(c, make(c)))
    for parameter, (places, call) in PARAMETERS.items() for kind, make in places.items()
]


# --- trees with loops ----------------------------------------------------------------------------------------

def looping_tree(c: Ctx, folder: Path) -> None:
    (folder / "loop-a").symlink_to(folder / "loop-b")
    (folder / "loop-b").symlink_to(folder / "loop-a")


def self_link(c: Ctx, folder: Path) -> None:
    (folder / "me").symlink_to(folder / "me")


TREES: list[Case] = [
    Case("code-tree-loop", "loop-a", lambda c: (looping_tree(c, c.code), est(c))),
    Case("code-tree-self-link", "me", lambda c: (self_link(c, c.code), est(c))),
    Case("inputs-tree-loop", "loop-a", lambda c: (looping_tree(c, c.data), fit(c, inputs=str(c.data)))),
    Case("inputs-tree-self-link", "me", lambda c: (self_link(c, c.data), fit(c, inputs=str(c.data)))),
]


# --- numbers -------------------------------------------------------------------------------------------------

NUMBERS: list[Case] = [
    Case("session-grace-nan", "stop_grace_period", lambda c: Session(stop_grace_period=float("nan"))),
    Case("session-grace-inf", "stop_grace_period", lambda c: Session(stop_grace_period=float("inf"))),
    Case("session-grace-huge", "stop_grace_period", lambda c: Session(stop_grace_period=10**20)),
    Case("session-grace-bool", "stop_grace_period", lambda c: Session(stop_grace_period=True)),
    Case("session-grace-str", "stop_grace_period", lambda c: Session(stop_grace_period="5")),
    Case("session-sync-huge", "output_sync_period", lambda c: Session(output_sync_period=10**20)),
    Case("marker-timeout-huge", "timeout", lambda c: marker(c, timeout=10**20)),
    Case("marker-timeout-2-64", "timeout", lambda c: marker(c, timeout=2**64)),
    Case("marker-timeout-1e300", "timeout", lambda c: marker(c, timeout=1e300)),
    Case("marker-timeout-bool", "timeout", lambda c: marker(c, timeout=True)),
    Case("wait-timeout-huge", "timeout", lambda c: started(c).wait(timeout=10**20)),
    Case("hp-many-over-arg-max", "kernel's limit",
         lambda c: est(c, hyperparameters=[{"label": f"p{i}", "value": "v" * 100_000} for i in range(40)])),
    Case("hp-label-over-arg-max", "hyperparameters", lambda c: est(c, hyperparameters=hp("l" * 200_000, "1"))),
    Case("hp-value-over-arg-strlen", "kernel's limit", lambda c: est(c, hyperparameters=hp("blob", "x" * 131_072))),
    Case("hp-label-nul", "hyperparameters", lambda c: est(c, hyperparameters=hp("a\0b", "1"))),
]


# --- packages ------------------------------------------------------------------------------------------------

def pip(*items: str) -> Callable[[Ctx], Any]:
    return lambda c: CondaDependencies.create(pip_packages=list(items))


def conda(*items: str) -> Callable[[Ctx], Any]:
    return lambda c: CondaDependencies.create(conda_packages=list(items))


PACKAGES: list[Case] = [
    Case("pip-requirements-file", "pip_packages", pip("-r /etc/passwd")),
    Case("pip-requirements-long", "pip_packages", pip("--requirement=/etc/passwd")),
    Case("pip-index-url", "pip_packages", pip("--index-url=https://example.com/simple")),
    Case("pip-extra-index-url", "pip_packages", pip("six", "--extra-index-url", "https://example.com/simple")),
    Case("pip-editable", "pip_packages", pip("-e .")),
    Case("pip-constraint", "pip_packages", pip("-c /etc/passwd")),
    Case("pip-find-links", "pip_packages", pip("--find-links=/tmp")),
    Case("pip-newline", "pip_packages", pip("six\n-r /etc/passwd")),
    Case("pip-nul", "pip_packages", pip("six\0")),
    Case("pip-path", "pip_packages", pip("./mypkg")),
    Case("pip-bad-marker", "pip_packages", pip("six; python_version >> '3'")),
    Case("pip-two-names", "pip_packages", pip("six numpy")),
    Case("conda-two-python-pins", "conda_packages", conda("python=3.11", "python=3.10")),
    Case("conda-two-python-pins-spaced", "conda_packages", conda("python 3.11", "python>=3.9")),
    Case("conda-two-pins-of-a-package", "conda_packages", conda("python=3.11", "numpy=1.26", "numpy=2.0")),
    Case("conda-nul", "conda_packages", conda("python=3.11\0")),
    Case("conda-newline", "conda_packages", conda("python=3.11\nnumpy")),
    Case("conda-option", "conda_packages", conda("--override-channels")),
    Case("channels-nul", "channels", lambda c: CondaDependencies.create(channels=["conda-forge\0"])),
    Case("channels-option", "channels", lambda c: CondaDependencies.create(channels=["--insecure"])),
]


# --- object storage roots --------------------------------------------------------------------------------------

OBS: list[Case] = [
    Case("obs-root-obs-url", "obs_root", lambda c: Session(obs_root="obs://x")),
    Case("obs-root-s3-url", "obs_root", lambda c: Session(obs_root="s3://bucket")),
    Case("est-obs-root-obs-url", "obs_root", lambda c: est(c, obs_root="obs://x")),
    Case("output-path-nul-obs", "output_path", lambda c: est(c, output_path="obs://bucket/o\0ut/")),
    Case("lock-file-existing-code", "lock_file", lambda c: Environment("e", lock_file=str(c.code / "train.py"))),
    Case("lock-file-directory", "lock_file", lambda c: Environment("e", lock_file=str(c.tmp))),
    Case("lock-file-dev-null", "lock_file", lambda c: Environment("e", lock_file="/dev/null")),
    Case("lock-file-not-yaml", "lock_file", lambda c: Environment("e", lock_file=str(c.tmp / "e.lock"))),
]

CASES = PATHS + TREES + NUMBERS + PACKAGES + OBS


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_bad_path_or_limit_is_refused_clearly_before_anything_runs(case: Case, ctx: Ctx) -> None:  # noqa: F811
    assert_refused_before_anything_runs(case, ctx)


def test_this_gallery_holds_at_least_100_cases() -> None:
    assert len(CASES) >= 100
