"""What a boot file declares on its command line, read from its source (no import, nothing runs).

ModelArts passes parameters a script did not declare, so scripts use ``parse_known_args()``, which silently ignores
anything undeclared: a hyperparameter typo (``epcohs``) or a label argparse matches only by prefix (``epoch`` for
``--epochs``) passes green and trains with the defaults. :func:`undeclared` finds such labels before the job runs.
It only refuses when it can read the declarations: literal ``add_argument("--name", ...)`` calls in the boot file
and the local modules it imports. Where the script also reads its leftover arguments (the second value of
``parse_known_args``, a search of ``sys.argv``) a label it does not declare may still be read: :func:`doubtful`
says so, for a warning, never a refusal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

#: what the platform passes itself: a script need not declare them for a smoke test to mean something
PLATFORM_OPTIONS = frozenset({"data_url", "train_url", "num_gpus"})


@dataclass(frozen=True)
class Declarations:
    options: frozenset[str]  # long option names without the dashes (argparse's dest spelling kept as written)
    allow_abbrev: bool
    #: True when the boot file (and the local modules it imports) are all there is to read: a label they do not
    #: declare is ignored for certain; False when the script also reads its leftover arguments (the second value
    #: of parse_known_args, sys.argv) or imports a local module whose declarations cannot be read
    certain: bool = True


#: how deep local imports are followed for declarations (boot file -> helper -> helper's helper)
IMPORT_DEPTH = 3


def declarations(boot_file: Path) -> Declarations | None:
    """The long options the boot file declares with argparse (in itself or in the local modules it imports), or
    None when they cannot be read for certain."""
    options: set[str] = set()
    state = {"allow_abbrev": True, "dynamic": False, "leftover": False}
    if not _read(boot_file, boot_file.parent, options, state, seen=set(), depth=0):
        return None
    if state["dynamic"] or not options:
        return None
    return Declarations(frozenset(options), bool(state["allow_abbrev"]), certain=not state["leftover"])


def _read(path: Path, root: Path, options: set[str], state: dict[str, bool], *, seen: set[Path], depth: int) -> bool:
    """Add the declarations of ``path`` (and of the local modules it imports) to ``options``; False: unreadable."""
    seen.add(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for helper in _local_modules(node, path, root):
                if helper in seen:
                    continue
                if depth + 1 >= IMPORT_DEPTH or not _read(helper, root, options, state, seen=seen, depth=depth + 1):
                    state["leftover"] = True  # declarations we could not read: unsure, warn only
        elif isinstance(node, ast.Assign) and _leftover_kept(node):
            state["leftover"] = True
        elif isinstance(node, ast.Subscript) and _parse_call(node.value, "parse_known_args"):
            state["leftover"] = True  # parse_known_args()[1]
        elif isinstance(node, ast.Attribute) and node.attr == "argv" and isinstance(node.value, ast.Name) \
                and node.value.id == "sys" and depth == 0:
            state["leftover"] = state["leftover"] or _argv_read_beyond_parse(tree, node)
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr in ("ArgumentParser", "add_argument_group"):
            for keyword in node.keywords:
                if keyword.arg == "allow_abbrev" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False:
                    state["allow_abbrev"] = False
        if node.func.attr != "add_argument":
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.startswith("--"):
                    options.add(arg.value[2:])
            else:
                state["dynamic"] = True  # a name we cannot read: say nothing rather than something wrong
    return True


def _local_modules(node: ast.Import | ast.ImportFrom, path: Path, root: Path) -> list[Path]:
    """The files of the code directory an import statement loads (``import helpers``, ``from .args import x``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        base = root
    else:
        base = path.parent if node.level else root
        for _ in range(max(0, node.level - 1)):
            base = base.parent
        names = [node.module] if node.module else []
        names += [f"{node.module}.{alias.name}" if node.module else alias.name for alias in node.names]
    found = []
    for name in names:
        candidate = base.joinpath(*name.split("."))
        for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if file.is_file():
                found.append(file)
    return found


def _parse_call(node: ast.AST, method: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method


def _leftover_kept(node: ast.Assign) -> bool:
    """``args, rest = parser.parse_known_args()`` with ``rest`` a name the script may read (not ``_``)."""
    if not _parse_call(node.value, "parse_known_args"):
        return False
    for target in node.targets:
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            rest = target.elts[1]
            return not (isinstance(rest, ast.Name) and rest.id.startswith("_"))
    return False


def _argv_read_beyond_parse(tree: ast.AST, argv: ast.Attribute) -> bool:
    """Whether the script searches ``sys.argv`` for options itself: iterates over it (a loop, a comprehension),
    looks for something in it (``in``, ``.index``); printing it or giving it to the parser is no such reading."""
    def holds(expr: ast.AST) -> bool:
        return any(inner is argv for inner in ast.walk(expr))

    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)) and holds(node.iter):
            return True
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) \
                and any(holds(c) for c in node.comparators):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("index", "count") \
                and holds(node.func.value):
            return True
    return False


def undeclared(boot_file: Path, labels: Iterable[str]) -> list[str]:
    """One problem per label the boot file does not declare, or matches only by argparse's prefix rule.

    Without labels there is nothing to check, and the boot file is not parsed (this runs at every smoke job's start).
    """
    labels = list(labels)
    if not labels:
        return []
    found = declarations(boot_file)
    if found is None or not found.certain:
        return []
    declared = found.options | PLATFORM_OPTIONS
    spellings = declared | {name.replace("-", "_") for name in declared} | {name.replace("_", "-") for name in declared}
    problems = []
    for label in labels:
        if label in spellings:
            continue
        by_prefix = sorted(name for name in declared if name.startswith(label)) if found.allow_abbrev else []
        listing = ", ".join(f"--{name}" for name in sorted(found.options))
        if len(by_prefix) == 1:
            problems.append(f"label {label!r} matches --{by_prefix[0]} only by argparse's prefix rule: write "
                            f"{by_prefix[0]!r}")
        else:
            close = get_close_matches(label, sorted(found.options), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"label {label!r} is not declared by {boot_file.name} (it declares {listing}): with "
                            f"parse_known_args() --{label}=... would be ignored{hint}")
    return problems


def doubtful(boot_file: Path, labels: Iterable[str]) -> list[str]:
    """Labels the boot file does not declare where it may read them in a way not seen here (its leftover arguments,
    or a module whose declarations cannot be read): a warning each, never a refusal."""
    labels = list(labels)
    if not labels:
        return []
    found = declarations(boot_file)
    if found is None or found.certain:
        return []
    declared = found.options | PLATFORM_OPTIONS
    spellings = declared | {name.replace("-", "_") for name in declared} | {name.replace("_", "-") for name in declared}
    return [f"label {label!r} is not declared with add_argument in {boot_file.name} or the modules it imports, but "
            "the script also reads its leftover arguments (or a module whose declarations cannot be read), so it may "
            "take the label from there: check that it does" for label in labels
            if label not in spellings]
