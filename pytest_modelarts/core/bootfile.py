"""What a boot file declares on its command line, read from its source (no import, nothing runs).

ModelArts passes parameters a script did not declare, so scripts use ``parse_known_args()``, which silently ignores
anything undeclared: a hyperparameter typo (``epcohs``) or a label argparse matches only by prefix (``epoch`` for
``--epochs``) passes green and trains with the defaults. :func:`undeclared` finds such labels before the job runs.
It only speaks when it can read the declarations: literal ``add_argument("--name", ...)`` calls in the boot file.
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


def declarations(boot_file: Path) -> Declarations | None:
    """The long options the boot file declares with argparse, or None when they cannot be read for certain."""
    try:
        tree = ast.parse(boot_file.read_text(encoding="utf-8"), filename=str(boot_file))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    options: set[str] = set()
    allow_abbrev = True
    dynamic = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "ArgumentParser" or (isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument_group"):
            for keyword in node.keywords:
                if keyword.arg == "allow_abbrev" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False:
                    allow_abbrev = False
        if node.func.attr != "add_argument":
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if arg.value.startswith("--"):
                    options.add(arg.value[2:])
            else:
                dynamic = True  # a name we cannot read: say nothing rather than something wrong
    if dynamic or not options:
        return None
    return Declarations(frozenset(options), allow_abbrev)


def undeclared(boot_file: Path, labels: Iterable[str]) -> list[str]:
    """One problem per label the boot file does not declare, or matches only by argparse's prefix rule.

    Without labels there is nothing to check, and the boot file is not parsed (this runs at every smoke job's start).
    """
    labels = list(labels)
    if not labels:
        return []
    found = declarations(boot_file)
    if found is None:
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
