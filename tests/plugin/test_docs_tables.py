"""docs/plugin.md's tables of options and marker keywords are the code's: every option and keyword is in them, and
nothing that the code does not have."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pytest_modelarts.pytest_plugin.marker import modelarts as marker_signature
from pytest_modelarts.pytest_plugin.options import OPTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin.md"


def table_after(heading: str, first_column: str) -> list[list[str]]:
    """The rows (cells without their backquotes) of the first table under ``heading`` whose header starts with ``first_column``."""
    text = DOC.read_text()
    section = text[text.index(f"\n## {heading}\n"):]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else len(section)]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_options_table_lists_every_option_with_its_ini_name() -> None:
    rows = table_after("Options", "option")
    documented = {re.match(r"`(--[a-z-]+)", row[0]).group(1): row[1].strip("`") for row in rows}  # type: ignore[union-attr]
    code = {opt.flag: opt.ini for opt in OPTIONS}
    assert sorted(set(code) - set(documented)) == [], "options missing from docs/plugin.md"
    assert sorted(set(documented) - set(code)) == [], "docs/plugin.md lists options the plugin does not have"
    assert documented == code, "ini names in docs/plugin.md differ from the code's"


def test_the_marker_table_lists_every_keyword() -> None:
    rows = table_after("The marker", "keyword")
    documented = [row[0].strip("`") for row in rows]
    code = list(inspect.signature(marker_signature).parameters)
    assert sorted(set(code) - set(documented)) == [], "marker keywords missing from docs/plugin.md"
    assert sorted(set(documented) - set(code)) == [], "docs/plugin.md lists keywords the marker does not have"
    assert len(documented) == len(set(documented))
