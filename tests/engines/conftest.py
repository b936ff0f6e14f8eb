"""Fixtures of the engine tests: the stand-in index of the engines' frameworks (tests/support/engines.py)."""

from __future__ import annotations

from tests.support.engines import engine_index, use_engine_index  # noqa: F401  (fixtures)
