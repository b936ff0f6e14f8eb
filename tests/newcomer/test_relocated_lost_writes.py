"""Without a sandbox (the relocated mode), what a job writes where ModelArts would lose it is still reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Estimator, Session

BOOT = """\
import argparse, os
p = argparse.ArgumentParser(); p.add_argument('--data_url'); p.add_argument('--train_url')
a, _ = p.parse_known_args()
open('model.pkl', 'w').write('in the working directory')                       # created: lost online
open(os.path.join(os.path.dirname(__file__), 'notes.txt'), 'a').write('more')  # changed: lost online
os.remove(os.path.join(a.data_url, 'b.csv'))                                    # deleted: lost online
open(os.path.join(a.train_url, 'kept.bin'), 'w').write('kept')                  # under train_url: kept
"""


def test_a_relocated_job_reports_what_it_created_changed_and_deleted_outside_train_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_MODELARTS_REQUIRE_SANDBOX", raising=False)
    code, data = tmp_path / "code", tmp_path / "data"
    code.mkdir()
    data.mkdir()
    (code / "train.py").write_text(BOOT)
    (code / "notes.txt").write_text("notes")
    for name in ("a.csv", "b.csv"):
        (data / name).write_text("x\n")
    session = Session(local_root=tmp_path / "runs", stream_logs=False, sandbox=False)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1).fit(inputs=str(data), wait=True)
    assert job.get_job_info()["sandboxed"] is False
    assert sorted(job.lost_writes) == ["inputs/data_url_0/b.csv (deleted)", "user-job-dir/code/notes.txt (changed)",
                                       "user-job-dir/model.pkl (created)"]
    assert "wrote user-job-dir/model.pkl (created): online this file is lost" in job.logs()
    assert (data / "b.csv").exists() and (code / "notes.txt").read_text() == "notes"  # the user's files are untouched
