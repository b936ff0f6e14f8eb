"""The package's shape, kept: no import circles, every import points down the layers, no module over 400 lines.

Imports are read from the source (``ast``), all of them: at module level, inside functions, and under
``TYPE_CHECKING``. The layers, from the top down (docs/architecture.md):

    pytest_plugin, cli, job_cli  ->  emulator  ->  sdk, promotion  ->  core.runner  ->  backends, envs  ->  core  ->  errors
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_modelarts"
MAX_LINES = 400
# (module prefix, layer): the longest matching prefix decides; higher layers may import lower ones, never upwards
LAYERS = (
    ("pytest_modelarts", 7),
    ("pytest_modelarts.pytest_plugin", 6), ("pytest_modelarts.cli", 6), ("pytest_modelarts.job_cli", 6),
    ("pytest_modelarts.emulator", 5),
    ("pytest_modelarts.sdk", 4), ("pytest_modelarts.promotion", 4),
    ("pytest_modelarts.core.runner", 3),
    ("pytest_modelarts.backends", 2), ("pytest_modelarts.envs", 2),
    ("pytest_modelarts.core", 1),
    ("pytest_modelarts.errors", 0),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    best = max((prefix for prefix, _ in LAYERS if module == prefix or module.startswith(prefix + ".")), key=len)
    return dict(LAYERS)[best]


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports (a name imported from a package that is a submodule counts as it)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [(source, alias.name) for alias in node.names]
        else:
            continue
        for source, name in targets:
            if name is not None and f"{source}.{name}" in MODULES:
                found.add(f"{source}.{name}")
            elif source in MODULES:
                found.add(source)
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_reader_sees_the_imports_it_must_see() -> None:
    """The graph is not empty by accident: known arrows of each kind are found."""
    assert "pytest_modelarts.core.job" in GRAPH["pytest_modelarts.core.runner"]  # module level
    assert "pytest_modelarts.core.training_job" in GRAPH["pytest_modelarts.core.hooks"]  # under TYPE_CHECKING
    assert "pytest_modelarts.emulator.fixtures" in GRAPH["pytest_modelarts.pytest_plugin.fixtures"]  # in a function
    assert "pytest_modelarts.core.contract" in GRAPH["pytest_modelarts.backends.sandbox"]  # from ..core import contract
    assert "pytest_modelarts.backends.docker.owners" in GRAPH["pytest_modelarts.backends.docker.execution"]  # from . import


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    assert circles(GRAPH) == []


def test_every_import_points_down_the_layers() -> None:
    upward = sorted(f"{a} (layer {layer(a)}) -> {b} (layer {layer(b)})"
                    for a, targets in GRAPH.items() for b in targets if layer(b) > layer(a))
    assert upward == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_400_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]} has {lines} lines; split it along its concerns"


def test_docs_architecture_names_every_module() -> None:
    """docs/architecture.md names each module of the package (by its path, or by its name in its package's row)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    unnamed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "__init__.py" or (path.name == "__init__.py" and rel != "backends/__init__.py"):
            continue  # a package's own docstring names its modules
        if f"`{rel}`" not in text and not any(f"`{path.name}`" in row and f"`{path.parent.relative_to(PACKAGE).as_posix()}/" in row
                                              for row in text.splitlines()):
            unnamed.append(rel)
    assert not unnamed, f"docs/architecture.md does not name: {unnamed}"
