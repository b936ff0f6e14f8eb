"""Outputs reach output_path while the job runs (ModelArts: "upload_periodically", every 30 s), not only at its end."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, ParameterError, Session
from tests.support.waiting import wait_until

WRITE_THEN_SLEEP = """\
import argparse, os, time
p = argparse.ArgumentParser(); p.add_argument('--train_url'); a, _ = p.parse_known_args()
open(os.path.join(a.train_url, 'checkpoint-1.txt'), 'w').write('first')
print('wrote the first checkpoint', flush=True)
time.sleep(40)
open(os.path.join(a.train_url, 'checkpoint-2.txt'), 'w').write('second')
"""


def start(tmp_path: Path, **session: object) -> tuple[object, Path]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(WRITE_THEN_SLEEP)
    out = tmp_path / "out"
    s = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, **session)  # type: ignore[arg-type]
    job = Estimator(modelarts_session=s, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, output_path=str(out)).fit(wait=False)
    return job, out


def test_a_killed_job_keeps_what_was_synced(tmp_path: Path) -> None:
    job, out = start(tmp_path, output_sync_period=0.5)
    wait_until(lambda: (out / "checkpoint-1.txt").is_file(), 30, "the first checkpoint in output_path")
    assert job.phase is JobPhase.RUNNING and (out / "checkpoint-1.txt").read_text() == "first"
    job.stop()
    assert (out / "checkpoint-1.txt").read_text() == "first" and not (out / "checkpoint-2.txt").exists()
    assert not list(out.glob(".*.partial")), "a half-copied file was left behind"


@pytest.mark.slow
def test_a_40_second_job_has_its_first_file_in_output_path_before_the_end(tmp_path: Path) -> None:
    """The default period, 30 s, as the API's documented request body shows."""
    job, out = start(tmp_path)
    started = time.monotonic()
    wait_until(lambda: (out / "checkpoint-1.txt").is_file(), 38, "the first checkpoint within the default period")
    assert job.phase is JobPhase.RUNNING and time.monotonic() - started < 38
    job.stop()


def test_the_period_is_checked() -> None:
    with pytest.raises(ParameterError, match=r"Session\(output_sync_period=0\): must be a number of seconds > 0, or None"):
        Session(output_sync_period=0)
