"""The plugin's settings: one group of command-line options, each with an ini twin; the command line wins.

Types and choices are pytest's and argparse's own (``addini(type=...)`` with ``Literal`` choices, ``choices=``,
``type=``); what they cannot say (a range, a relation between options) is checked in :meth:`Settings.from_config`,
and every mistake is a :class:`pytest.UsageError` that names the option, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from ..core.contract import Version
from ..core.session import LockMode, PythonSource

DEFAULT_TIMEOUT = 900.0
DEFAULT_LOG_LINES = 30
DEFAULT_KEEP_FAILED = 20
TIMEOUT_HELP = "must be a number of seconds > 0, or 'none' for no timeout"


def _timeout(value: float | str) -> float | None:
    """``none`` (or 0): no timeout; else seconds > 0."""
    if isinstance(value, str):
        if value.strip().lower() == "none":
            return None
        try:
            value = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(TIMEOUT_HELP) from None
    if value == 0:
        return None
    if not value > 0:
        raise argparse.ArgumentTypeError(TIMEOUT_HELP)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(TIMEOUT_HELP + " (a finite number: for no limit say 'none')")
    return float(value)


def _count(value: int | str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be an int >= 0") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be an int >= 0")
    return number


def _text(value: str) -> str | None:
    return value.strip() or None


@dataclass(frozen=True)
class Option:
    """One setting: a command-line flag and its ini twin (the flag's name in snake case), filling ``Settings.<name>``.

    ``ini_type`` is what ``addini`` parses the ini value as (a ``"bool"`` setting is a flag on the command line);
    ``convert`` turns either source's value into the setting (and raises ``argparse.ArgumentTypeError`` for a value
    out of range); ``choices`` limit the flag.
    """

    name: str
    flag: str
    help: str
    ini_type: Any = "bool"
    default: Any = False
    convert: Callable[[Any], Any] = lambda value: value
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def ini(self) -> str:  # also the argparse dest
        return self.flag.lstrip("-").replace("-", "_")

    def value(self, config: pytest.Config) -> Any:
        """The setting from the command line, else from the ini file; a bad value is a :class:`pytest.UsageError`."""
        cli = config.getoption(self.ini)
        if cli is not None:  # a flag, a choice argparse checked, or a value for ``convert`` to check
            try:
                return self.convert(cli)
            except argparse.ArgumentTypeError as exc:
                raise pytest.UsageError(f"{self.flag}={cli}: {exc}") from None
        try:
            return self.convert(config.getini(self.ini))
        except (pytest.UsageError, argparse.ArgumentTypeError, ValueError) as exc:
            if isinstance(exc, pytest.UsageError) and repr(self.ini) in str(exc):  # pytest's message names the file and option
                raise
            raise pytest.UsageError(f"ini {self.ini}: {exc}") from None


OPTIONS = (
    Option("enabled", "--modelarts", "run ModelArts smoke tests (marked tests and job files); without it they are skipped"),
    Option("root", "--modelarts-root", "directory for run sandboxes (default: <rootdir>/.modelarts)", "string", "", _text, "DIR"),
    Option("cache_dir", "--modelarts-cache-dir", "where locked environments are built and shared (default: the user cache dir)",
           "string", "", _text, "DIR"),
    Option("lock_mode", "--modelarts-lock-mode", "environment locks: create (default), check (CI: stale locks fail) or update",
           Literal["create", "check", "update"], "create", LockMode, "MODE", tuple(m.value for m in LockMode)),
    Option("python_source", "--modelarts-python-source",
           "where a locked environment's python comes from: conda (default) or local (a local interpreter that "
           "satisfies the spec, through a uv venv; only when conda_packages pin just python)",
           Literal["conda", "local", ""], "", lambda v: PythonSource(v) if v else None, "SOURCE", tuple(m.value for m in PythonSource)),
    Option("contract", "--modelarts-contract",
           "which ModelArts training local jobs reproduce: v2 (new-version, the default) or v1 (old jobs: /home/work, "
           "DLS_* variables, obs:// data_url and train_url)", Literal["v2", "v1"], "v2", Version, "VERSION", tuple(v.value for v in Version)),
    Option("obs_root", "--modelarts-obs-root",
           "a local OBS: a folder whose sub-folders are buckets (obs://bucket/... of local jobs, moxing, the emulator)",
           "string", "", _text, "DIR"),
    Option("timeout", "--modelarts-timeout", f"default seconds a smoke job may run ('none': no limit; default {DEFAULT_TIMEOUT:g})",
           float | Literal["none"], DEFAULT_TIMEOUT, _timeout, "SECONDS"),
    Option("keep_sandboxes", "--modelarts-keep-sandboxes", "keep the sandboxes of passing tests too (failed runs always keep theirs)"),
    Option("keep_failed", "--modelarts-keep-failed",
           f"sandboxes of failed jobs kept per worker; the oldest beyond N are removed (default {DEFAULT_KEEP_FAILED})",
           "int", DEFAULT_KEEP_FAILED, _count, "N"),
    Option("log_lines", "--modelarts-log-lines", f"log lines shown for a failed job (default {DEFAULT_LOG_LINES})",
           "int", DEFAULT_LOG_LINES, _count, "N"),
    Option("promote", "--modelarts-promote",
           "after a smoke test passes, submit its online configuration as a ModelArts training job (once, see the ledger)"),
    Option("promote_wait", "--modelarts-promote-wait",
           "wait for promoted jobs to finish (at most --modelarts-timeout); one that does not complete online fails the run"),
    Option("promote_force", "--modelarts-promote-force", "promote even when the ledger says the configuration was promoted already"),
    Option("instance_type", "--modelarts-instance-type", "default online flavor for promotion, e.g. modelarts.vm.cpu.2u",
           "string", "", _text, "FLAVOR"),
    Option("ledger", "--modelarts-promote-ledger", "the promotion ledger (default: <rootdir>/.modelarts/promotions.json)",
           "string", "", _text, "FILE"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelarts", "ModelArts smoke tests")
    for opt in OPTIONS:
        if opt.ini_type == "bool":
            group.addoption(opt.flag, action="store_true", default=None, dest=opt.ini, help=f"{opt.help} (ini: {opt.ini})")
        else:
            equals = _EQUALS_HELP.format(flag=opt.flag, metavar=opt.metavar) if opt.flag in PATH_OPTIONS else ""
            group.addoption(opt.flag, action="store", default=None, dest=opt.ini, metavar=opt.metavar, choices=opt.choices,
                            help=f"{opt.help} (ini: {opt.ini}).{equals}")
        parser.addini(opt.ini, f"{opt.help} (command line: {opt.flag})", type=opt.ini_type, default=opt.default)


#: options whose value is a path, and whether it must be a directory (else a file)
PATH_OPTIONS = {"--modelarts-root": True, "--modelarts-cache-dir": True, "--modelarts-obs-root": True,
                "--modelarts-promote-ledger": False}
_EQUALS_HELP = " Give it as {flag}={metavar}: before it loads plugins, pytest takes a separate value for a test path."


def space_separated_paths(args: Any) -> list[tuple[str, str]]:
    """The path options given as ``--flag VALUE`` (two arguments) whose value exists: pytest read VALUE as a test path
    when it chose its rootdir and ini file, before it knew the option (so the project's ini may be ignored)."""
    args = [str(a) for a in args]
    return [(a, args[i + 1]) for i, a in enumerate(args[:-1]) if a in PATH_OPTIONS and Path(args[i + 1]).expanduser().exists()]


@dataclass(frozen=True)
class Settings:
    enabled: bool
    root: Path
    cache_dir: Path | None
    lock_mode: LockMode
    python_source: PythonSource | None
    contract: Version
    obs_root: Path | None
    timeout: float | None
    keep_sandboxes: bool
    keep_failed: int
    log_lines: int
    promote: bool
    promote_wait: bool
    promote_force: bool
    instance_type: str | None
    ledger: Path

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        values = {opt.name: opt.value(config) for opt in OPTIONS}
        paths = [opt for opt in OPTIONS if opt.flag in PATH_OPTIONS]
        for opt in paths:  # relative to the rootdir
            values[opt.name] = _absolute(config.rootpath, values[opt.name])
        values["root"] = values["root"] or config.rootpath / ".modelarts"
        values["ledger"] = values["ledger"] or values["root"] / "promotions.json"
        for opt in paths:
            path, want_dir = values[opt.name], PATH_OPTIONS[opt.flag]
            if path is not None and path.exists() and path.is_dir() != want_dir:
                raise pytest.UsageError(
                    f"{opt.flag}={path}: is {'a file' if want_dir else 'a directory'}; give {'a directory' if want_dir else 'a file path'}")
        for flag, value in space_separated_paths(config.invocation_params.args):
            config.issue_config_time_warning(pytest.PytestConfigWarning(
                f"{flag} {value}: pytest read {value!r} as a test path when it chose its rootdir ({config.rootpath}) and "
                f"ini file, before this option was known, so the project's ini may be ignored; write {flag}={value}"
            ), stacklevel=2)
        settings = cls(**values)
        if settings.promote and not settings.enabled:
            raise pytest.UsageError("--modelarts-promote promotes passing smoke tests: add --modelarts to run them")
        if (settings.promote_wait or settings.promote_force) and not settings.promote:
            raise pytest.UsageError("--modelarts-promote-wait and --modelarts-promote-force modify promotion: add --modelarts-promote")
        return settings


def _absolute(base: Path, text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path
