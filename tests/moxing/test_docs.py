"""docs/moxing.md's table has a row for every function of ``mox.file``, and every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "moxing.md"


def table_rows(heading: str) -> list[list[str]]:
    text = DOC.read_text()
    section = text[text.index(heading):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in section.splitlines()
            if line.startswith("| `")]


def test_every_mox_file_function_has_a_row_with_arguments_source_and_test(mox: ModuleType) -> None:
    rows = table_rows("## What `mox.file` supports")
    functions = [name for name in mox.file.__all__ if not name.startswith("Mox") and name != "StatResult"]
    assert [row[0].strip("`") for row in rows] == sorted(functions)
    for row in rows:
        assert len(row) == 5 and all(row[2:]), row  # function, arguments, behaviour, source, test
        assert "tests/" in row[4], row


def test_every_test_the_document_names_exists() -> None:
    named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", DOC.read_text()))
    assert len(named) > 30
    for path, name in sorted(named):
        tree = ast.parse((ROOT / path).read_text())
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert name in defined, f"docs/moxing.md names {path}::{name}, which does not exist"
