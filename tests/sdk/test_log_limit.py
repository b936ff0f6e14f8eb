"""Logs are capped as on ModelArts (1 GiB): past the cap the output is dropped, the job runs on, and the log says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session

CHATTY = """\
import argparse, os, sys
p = argparse.ArgumentParser(); p.add_argument('--train_url'); a, _ = p.parse_known_args()
for i in range(500):
    print(f'line {i:04d} ' + 'x' * 40)
print('an error on stderr', file=sys.stderr)
open(os.path.join(a.train_url, 'done.txt'), 'w').write('the job ran on')
"""


def test_output_past_the_cap_is_dropped_and_the_job_runs_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_LOG_LIMIT", "2000")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(CHATTY)
    session = Session(local_root=tmp_path / "root", stream_logs=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, output_path=str(tmp_path / "out")).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    assert (tmp_path / "out" / "done.txt").read_text() == "the job ran on"
    log = job.logs()
    header, _, output = log.partition("\n")
    kept, _, note = output.partition("\n[pytest-modelarts] log length overflow (max: 2000 bytes)")
    assert len(kept.encode()) == 2000 and "line 0000" in kept
    assert "line 0499" not in log and "an error on stderr" not in log
    assert note.startswith(": as on ModelArts, the job runs on and its further output is dropped")
