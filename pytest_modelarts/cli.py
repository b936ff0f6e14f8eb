"""The ``pytest-modelarts`` command. Each concern adds its own subcommand with an ``add_<name>_parser`` function."""


from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core.environment import Environment
    from .envs.lock import LockedEnvironment

DESCRIPTION = (
    "Housekeeping for pytest-modelarts: locked environments and their cache, and Docker leftovers. "
    "Smoke tests themselves run with `pytest --modelarts`."
)


#: the ini settings ``env lock`` and ``env build`` take from the project, as ``pytest --modelarts`` does
INI_SETTINGS = {"mode": "modelarts_lock_mode", "python_source": "modelarts_python_source", "cache_dir": "modelarts_cache_dir"}
INI_EPILOG = ("Options not given come from the project's pytest configuration, found as pytest finds it from the file's "
              "directory upwards (pytest.ini, .pytest.ini, pyproject.toml [tool.pytest.ini_options], tox.ini [pytest], "
              "setup.cfg [tool:pytest]): modelarts_lock_mode, modelarts_python_source, modelarts_cache_dir.")


def project_ini(start: Path) -> tuple[Path, dict[str, str]] | None:
    """The nearest pytest configuration file at or above ``start`` and its settings, as pytest picks it: in each
    directory pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg (the last three only with a pytest section)."""
    import configparser
    import tomllib

    for folder in (start, *start.parents):
        for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest"), ("pyproject.toml", None),
                              ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
            path = folder / name
            if not path.is_file():
                continue
            if section is None:
                try:
                    tool = tomllib.loads(path.read_text()).get("tool", {}).get("pytest", {})
                except (OSError, tomllib.TOMLDecodeError):
                    continue
                values = tool.get("ini_options", tool) if isinstance(tool, dict) else None
                if values:
                    return path, {k: str(v) for k, v in values.items() if not isinstance(v, dict)}
                continue
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path)
            except configparser.Error:
                continue
            if parser.has_section(section) or name in ("pytest.ini", ".pytest.ini"):
                return path, dict(parser.items(section)) if parser.has_section(section) else {}
    return None


def with_project_ini(args: argparse.Namespace, spec: str) -> argparse.Namespace:
    """``args`` with the options not given taken from the project's pytest ini (said on stderr), as the plugin reads them."""
    found = project_ini(Path(spec).absolute().parent)
    taken = []
    if found is not None:
        path, values = found
        for dest, key in INI_SETTINGS.items():
            value = values.get(key, "").strip()
            if getattr(args, dest) is None and value:
                if dest == "cache_dir":
                    value = str(path.parent / Path(value).expanduser())
                setattr(args, dest, value)
                taken.append(f"{key}={value}")
        if taken:
            print(f"pytest-modelarts: from {path}: {', '.join(taken)}", file=sys.stderr)
    if args.mode is None:
        args.mode = "create"
    return args


def add_env_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = sub.add_parser("env", help="locked environments: lock a spec, build it, list the cache")
    env_sub = env.add_subparsers(dest="env_command", required=True)
    modes = ("create", "check", "update")  # core.session.LockMode
    lock = env_sub.add_parser(
        "lock", help="lock an environment file without building it (for pre-commit hooks and CI)",
        description="Write the conda-lock.yml of an environment file where the plugin reads it (the file's lock_file, "
                    "else <name>.conda-lock.yml next to it) and print its path and a summary. Nothing is built. "
                    "--mode=check writes nothing and exits 1 when the lock is missing or stale.",
    )
    lock.add_argument("spec", metavar="SPEC", help="an environment file (TOML or YAML)")
    lock.add_argument("--mode", choices=modes, default=None,
                      help="create (default): lock when missing or stale; check: fail instead; update: always re-solve")
    lock.add_argument("--python-source", choices=("conda", "local"), default=None)
    lock.add_argument("--cache-dir", metavar="DIR", default=None)
    lock.epilog = INI_EPILOG
    lock.set_defaults(func=_env_lock)
    build = env_sub.add_parser(
        "build", help="build (or find) the cached environment of an environment file or a conda-lock.yml",
        description="Build the environment of an environment file (locked first, as `env lock` does) or of a "
                    "conda-lock.yml into the cache, or find it there, and print its prefix.",
    )
    build.add_argument("source", metavar="SPEC_OR_LOCK")
    build.add_argument("--mode", choices=modes, default=None, help="how an environment file is locked (default create)")
    build.add_argument("--python-source", choices=("conda", "local"), default=None)
    build.add_argument("--cache-dir", metavar="DIR", default=None)
    build.epilog = INI_EPILOG
    build.set_defaults(func=_env_build)
    lst = env_sub.add_parser("list", help="list cached environments: name, python, size, last use")
    lst.add_argument("--cache-dir", metavar="DIR", default=None)
    lst.set_defaults(func=_env_list)

    gc = sub.add_parser("gc", help="remove cached environments unused for a given age")
    gc.add_argument("--older-than", metavar="AGE", default="30d", help="e.g. 30d, 12h, 0 (default: 30d)")
    gc.add_argument("--cache-dir", metavar="DIR", default=None)
    gc.add_argument("--dry-run", action="store_true", help="only report what would be removed")
    gc.set_defaults(func=_gc)


def _spec_or_lock(text: str) -> Environment | LockedEnvironment | str:
    """An environment file's Environment (its lock placed where the plugin reads it), a conda-lock.yml's lock, or
    what is wrong with the path."""
    from .envs.lock import read_lock
    from .errors import JobFileError, LockError
    from .pytest_plugin.documents import load_environment_file, read_document, with_default_lock

    path = Path(text)
    if path.is_dir():
        return f"{text} is a directory: give the path of an environment file or a conda-lock.yml file"
    if not path.exists():
        return f"{text}: no such file"
    hint = "give an environment file (TOML or YAML) or a conda-lock.yml"
    is_lock = path.name.endswith(".conda-lock.yml")
    if not is_lock and path.suffix != ".toml":
        try:
            data = read_document(path)
        except JobFileError as exc:
            raise JobFileError(f"{exc}; {hint}") from None
        is_lock = isinstance(data, dict) and "package" in data and "metadata" in data  # conda-lock's format
    if not is_lock:
        return with_default_lock(load_environment_file(path), path.absolute().parent)
    try:
        locked = read_lock(path.absolute())
    except LockError as exc:
        raise LockError(f"{exc} ({hint})") from None
    return locked if locked is not None else f"{text}: no such file"


def _spec(found: Environment | LockedEnvironment | str, text: str) -> Environment | None:
    """The Environment of an environment file with conda dependencies, else None (the problem is printed)."""
    from .core.environment import Environment

    problem = found if isinstance(found, str) else None
    if isinstance(found, Environment) and found.conda is None:
        problem = f"{text}: the environment {found.name!r} has no packages (conda_packages, pip_packages): nothing to lock"
    elif not isinstance(found, (Environment, str)):
        problem = f"{text} is a conda-lock.yml already: give the environment file it was locked from"
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return None
    assert isinstance(found, Environment)
    return found


def _env_lock(args: argparse.Namespace) -> int:
    from .envs.lock import lock_environment

    args = with_project_ini(args, args.spec)
    env = _spec(_spec_or_lock(args.spec), args.spec)
    if env is None or env.conda is None or env.lock_file is None:
        return 2
    locked = lock_environment(env.conda, env.lock_file, args.mode, cache_dir=args.cache_dir,
                              python_source=args.python_source)
    print(locked.path)
    print(_summary(env.name, locked))
    return 0


def _summary(name: str, locked: LockedEnvironment) -> str:
    python = next((p.version for p in locked.conda if p.name == "python"), locked.python_version)
    state = "written" if locked.written else "up to date"
    return (f"{name}: {len(locked.packages)} packages ({len(locked.conda)} conda, {len(locked.pip)} pip), "
            f"python {python} ({locked.python_source}), {locked.platform}; {state}")


def _env_build(args: argparse.Namespace) -> int:
    from .core.environment import Environment
    from .envs.build import build_environment, ensure_environment

    args = with_project_ini(args, args.source)
    found = _spec_or_lock(args.source)
    if isinstance(found, str):
        print(f"error: {found}", file=sys.stderr)
        return 2
    if isinstance(found, Environment):
        env = _spec(found, args.source)
        if env is None:
            return 2
        built = ensure_environment(env, cache_dir=args.cache_dir, lock_mode=args.mode, lock_path=env.lock_file,
                                   python_source=args.python_source)
    else:
        built = build_environment(found, cache_dir=args.cache_dir, name=found.path.name.split(".")[0])
    print(built.prefix)
    return 0


def _env_list(args: argparse.Namespace) -> int:
    import time

    from .envs.cache import EnvCache, format_bytes, list_environments

    envs = list_environments(args.cache_dir)
    if not envs:
        print(f"no environments in {EnvCache.at(args.cache_dir).envs}")
        return 0
    rows = [("NAME", "PYTHON", "SIZE", "LAST USE", "KEY", "PREFIX")]
    rows += [(e.name, e.python, format_bytes(e.size), _ago(time.time() - e.last_used), e.key[:12], str(e.prefix))
             for e in envs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([cell.ljust(w) for cell, w in zip(row, widths, strict=False)] + [row[-1]]))
    return 0


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} ago" if unit == "d" else f"{seconds // size:.0f} {unit} ago"
    return "just now"


def _gc(args: argparse.Namespace) -> int:
    from .envs.cache import gc, parse_age

    try:
        age = parse_age(args.older_than)
    except ValueError as exc:
        print(f"--older-than: {exc}", file=sys.stderr)
        return 2
    result = gc(args.cache_dir, older_than=age, dry_run=args.dry_run)
    print(("would have " if args.dry_run else "") + str(result))
    return 0


def add_clean_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clean = sub.add_parser(
        "clean", help="remove Docker containers and networks left by runs that died (e.g. SIGKILLed)",
        description="Remove the containers and networks labelled pytest-modelarts whose owning process is dead "
                    "(what the start of every 'pytest --modelarts' run does); --all removes them all.",
    )
    clean.add_argument("--all", action="store_true", dest="everything",
                       help="also remove those of processes still running (stops their jobs)")
    clean.set_defaults(func=_clean)


def _clean(args: argparse.Namespace) -> int:
    from .backends.docker.owners import cleanup_leftovers

    report = cleanup_leftovers(everything=args.everything)
    if report.error:
        print(f"error: {report.error}", file=sys.stderr)
        return 1
    for name in report.containers:
        print(f"removed container {name}")
    for name in report.networks:
        print(f"removed network {name}")
    print(report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pytest-modelarts", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"pytest-modelarts {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_env_parsers(sub)
    add_clean_parser(sub)
    from .job_cli import add_job_parser

    add_job_parser(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-modelarts")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import ModelArtsError

    try:
        return int(args.func(args) or 0)
    except ModelArtsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
