"""The ``modelarts`` import name, answered by pytest-modelarts only when nothing else provides it.

The ModelArts SDK's documented scripts import ``modelarts.session``, ``modelarts.estimator``,
``modelarts.environment`` and ``modelarts.environment.conda_env``. The official SDK is not published on PyPI,
so on a developer's machine or in CI there is usually no ``modelarts`` package at all. pytest-modelarts ships no
top-level ``modelarts`` package (that would overwrite the official one's files when both are installed);
instead ``pytest_modelarts_alias.pth`` installs the finder below at interpreter start-up, at the *end* of
``sys.meta_path``. Python asks it only after every other finder has failed to find ``modelarts``: with the
official SDK installed, the official SDK is imported and this finder is never consulted.

This module runs at every interpreter start-up, so it imports nothing beyond the standard library's
already-loaded modules, and it does not import ``pytest_modelarts`` until ``modelarts`` is actually imported.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing would cost every interpreter start-up a few milliseconds
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

#: the import name answered, and the package of pytest-modelarts that stands in for it
NAME = "modelarts"
STAND_IN = "pytest_modelarts.sdk_alias"


class ModelArtsAlias:
    """A meta-path finder for ``modelarts`` alone: the stand-in's directory becomes the package ``modelarts``.

    The submodules (``modelarts.session``, ...) are then found by the ordinary path finder in that directory.
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != NAME:
            return None
        for finder in sys.meta_path:
            if _is_alias(finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is not None and find(fullname, path, target) is not None:
                return None  # someone else provides modelarts (the official SDK): it wins
        from importlib.util import find_spec, spec_from_file_location

        try:
            stand_in = find_spec(STAND_IN)  # imports pytest_modelarts (the package), not the stand-in
        except ImportError:  # pytest-modelarts itself cannot be imported (a broken install): no modelarts either
            return None
        if stand_in is None or stand_in.origin is None or not stand_in.submodule_search_locations:
            return None
        return spec_from_file_location(NAME, stand_in.origin, submodule_search_locations=list(stand_in.submodule_search_locations))

    def __repr__(self) -> str:
        return f"ModelArtsAlias({NAME!r} -> {STAND_IN!r} when no other package provides {NAME!r})"


def _is_alias(finder: object) -> bool:
    # by name: the module leaves sys.modules (below), so a later import of it makes a second class
    return type(finder).__name__ == ModelArtsAlias.__name__ and type(finder).__module__ == __name__


def install() -> None:
    """Append the finder to ``sys.meta_path`` once (the ``.pth`` file calls this)."""
    if not any(_is_alias(f) for f in sys.meta_path):
        sys.meta_path.append(ModelArtsAlias())
    # pytest marks every top-level module of a plugin's distribution for assertion rewriting and warns about the
    # ones already imported; the finder needs only itself, not its module's entry in sys.modules
    sys.modules.pop(__name__, None)
