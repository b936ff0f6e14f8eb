"""The examples run as the README says they do."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_sdk_example_runs_in_its_locked_environment(tmp_path):
    """examples/sdk_example.py: the SDK reference's example with its own imports completes, in the locked env."""
    lock = EXAMPLES / "mlp-digits.conda-lock.yml"
    before = lock.read_bytes()
    result = subprocess.run([sys.executable, str(EXAMPLES / "sdk_example.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    info = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert info["phase"] == "Completed" and info["job_name"] == "my_training_job"
    assert info["environment"].startswith("locked env 'mlp-digits'")
    assert (Path(info["output_path"]) / "model.pkl").is_file()
    assert lock.read_bytes() == before  # the committed lock is used, not rewritten
