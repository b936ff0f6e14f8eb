"""The ``pytest-modelarts`` command. Each concern adds its own subcommand with an ``add_<name>_parser`` function."""


from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DESCRIPTION = (
    "Housekeeping for pytest-modelarts: locked environments and their cache, and Docker leftovers. "
    "Smoke tests themselves run with `pytest --modelarts`."
)


def add_env_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = sub.add_parser("env", help="locked environments: build a lock, list the cache")
    env_sub = env.add_subparsers(dest="env_command", required=True)
    build = env_sub.add_parser("build", help="build (or find) the cached environment of a conda-lock.yml")
    build.add_argument("lock_file", metavar="LOCK_FILE")
    build.add_argument("--cache-dir", metavar="DIR", default=None)
    build.set_defaults(func=_env_build)
    lst = env_sub.add_parser("list", help="list cached environments")
    lst.add_argument("--cache-dir", metavar="DIR", default=None)
    lst.set_defaults(func=_env_list)

    gc = sub.add_parser("gc", help="remove cached environments unused for a given age")
    gc.add_argument("--older-than", metavar="AGE", default="30d", help="e.g. 30d, 12h, 0 (default: 30d)")
    gc.add_argument("--cache-dir", metavar="DIR", default=None)
    gc.add_argument("--dry-run", action="store_true", help="only report what would be removed")
    gc.set_defaults(func=_gc)


def _env_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .envs.build import build_environment
    from .envs.lock import read_lock

    if Path(args.lock_file).is_dir():
        print(f"error: {args.lock_file} is a directory: give the path of a conda-lock.yml file", file=sys.stderr)
        return 2
    locked = read_lock(Path(args.lock_file).absolute())
    if locked is None:
        print(f"{args.lock_file}: no such file", file=sys.stderr)
        return 2
    built = build_environment(locked, cache_dir=args.cache_dir, name=Path(args.lock_file).name.split(".")[0])
    print(built.prefix)
    return 0


def _env_list(args: argparse.Namespace) -> int:
    import time

    from .envs.cache import EnvCache, _last_used

    cache = EnvCache.at(args.cache_dir)
    for env in sorted(cache.envs.iterdir()) if cache.envs.is_dir() else ():
        age = (time.time() - _last_used(env)) / 86400
        print(f"{env.name[:16]}  last used {age:.1f} days ago  {env}")
    return 0


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
    from .backends.docker import cleanup_leftovers

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
    sub = parser.add_subparsers(dest="command", required=True)
    add_env_parsers(sub)
    add_clean_parser(sub)
    return parser


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
