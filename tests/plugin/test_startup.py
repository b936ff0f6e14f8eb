"""What every ``pytest`` run with the plugin pays before its first test: the plugin's imports (issue 14)."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_loading_the_plugin_does_not_import_filelock() -> None:
    """filelock brings asyncio and ssl (~40 ms a run); only a run that locks, builds or promotes needs it."""
    loaded = _loaded_after("import pytest_modelarts.pytest_plugin.plugin")
    assert "pytest_modelarts.promotion.ledger" in loaded  # the module that used to import it at the top is loaded
    assert not {"filelock", "asyncio"} & loaded


def test_the_ledger_still_locks_when_used(tmp_path: object) -> None:
    loaded = _loaded_after(
        "from pytest_modelarts.promotion.ledger import Ledger\n"
        f"ledger = Ledger({str(tmp_path)!r} + '/promotions.json')\n"
        "with ledger.claim('k' * 16):\n    pass"
    )
    assert "filelock" in loaded
