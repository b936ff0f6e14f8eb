"""The worker supervisor run on its own: its status file, and what its start costs every job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_modelarts.backends.local.execution import SUPERVISOR
from pytest_modelarts.backends.local.supervisor import encode_request


def _supervise(tmp_path: Path, script: str) -> tuple[dict[str, object], str]:
    status = tmp_path / "status.json"
    err = tmp_path / "stderr"
    with open(err, "wb") as err_file:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-X", "importtime", str(SUPERVISOR)],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err_file, start_new_session=True)
        assert proc.stdin is not None
        try:
            proc.stdin.write(encode_request(str(status), 1, 1 << 20, ["/bin/sh", "-c", script], {"PATH": "/usr/bin:/bin"},
                                            str(tmp_path), str(tmp_path / "job.log")))
            proc.stdin.flush()
            proc.wait(timeout=30)  # stdin stays open until the job ends: its EOF would mean "the parent died"
        finally:
            proc.kill()
            proc.stdin.close()
    return json.loads(status.read_text()), err.read_text()


@pytest.mark.parametrize(("script", "expected"), [
    ("exit 0", {"exit_code": 0, "signal": None, "terminated": False}),
    ("exit 3", {"exit_code": 3, "signal": None, "terminated": False}),
    ("kill -KILL $$", {"exit_code": 137, "signal": 9, "terminated": False}),
])
def test_the_status_file_is_json_of_the_jobs_end(tmp_path: Path, script: str, expected: dict[str, object]) -> None:
    status, _ = _supervise(tmp_path, script)
    assert status == expected


def test_the_supervisor_does_not_load_json(tmp_path: Path) -> None:
    """Every job pays for the supervisor's imports: json was 1-3 ms of them, for one line."""
    _, importtime = _supervise(tmp_path, "exit 0")
    loaded = {line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines() if line.startswith("import time:")}
    assert "signal" in loaded  # the -X importtime listing was read
    assert "json" not in loaded and not any(name.startswith("json.") for name in loaded)
