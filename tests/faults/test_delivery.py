"""Outputs that cannot be delivered fail the job, leave no truncated file, say where the intact ones are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobFailedError, JobPhase
from pytest_modelarts.backends.sandbox import deliver_tree

WRITE = ("import argparse, pathlib\np = argparse.ArgumentParser(); p.add_argument('--train_url'); p.add_argument('--data_url')\n"
         "a, _ = p.parse_known_args()\npathlib.Path(a.train_url, 'model.bin').write_bytes(b'm' * 100000)\n"
         "pathlib.Path(a.train_url, 'sub').mkdir()\npathlib.Path(a.train_url, 'sub', 'w.txt').write_text('weights')\n")


def fit(session, code: Path, out: Path):
    (code / "train.py").write_text(WRITE)
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, output_path=str(out))
    return est.fit(wait=False, job_name="deliver")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_output_path_fails_the_job_and_names_the_sandbox(sdk_session, code_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        job = fit(sdk_session, code_dir, out)
        assert job.wait() is JobPhase.FAILED
        with pytest.raises(JobFailedError, match="delivering the outputs to output_path .* failed.*intact outputs are in the sandbox, kept"):
            job.raise_for_status()
    finally:
        out.chmod(0o700)


def test_an_output_path_that_cannot_be_created_fails_the_job(sdk_session, code_dir, tmp_path):
    (tmp_path / "a-file").write_text("")
    job = fit(sdk_session, code_dir, tmp_path / "a-file" / "out")
    assert job.wait() is JobPhase.FAILED
    with pytest.raises(JobFailedError, match="output_path .* cannot be created.*intact outputs are in the sandbox, kept"):
        job.raise_for_status()
    assert job.phase is JobPhase.FAILED and job.get_job_info()["delivery_error"]


def test_a_failed_copy_leaves_no_truncated_file_and_fails_the_job(sdk_session, code_dir, tmp_path, monkeypatch):
    import shutil

    real = shutil.copy2

    def full_disk(src, dst, **kw):
        if str(src).endswith("model.bin"):
            Path(dst).write_bytes(b"m" * 10)  # a partial write, then the disk is full
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst, **kw)

    out = tmp_path / "out"
    out.mkdir()
    (out / "model.bin").write_bytes(b"old model")
    monkeypatch.setattr(shutil, "copy2", full_disk)
    job = fit(sdk_session, code_dir, out)
    assert job.wait() is JobPhase.FAILED
    assert "No space left on device" in (job.failure_reason or "")
    assert "intact outputs are in the sandbox" in job.failure_reason
    assert (out / "model.bin").read_bytes() == b"old model"  # the old file, whole; no truncated one
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert "delivering the outputs" in job.logs()


def test_a_symlink_in_output_path_is_replaced_not_written_through(tmp_path):
    source, target, outside = tmp_path / "src", tmp_path / "out", tmp_path / "precious.txt"
    source.mkdir()
    target.mkdir()
    (source / "model.txt").write_text("new")
    outside.write_text("keep me")
    (target / "model.txt").symlink_to(outside)
    deliver_tree(source, target)
    assert outside.read_text() == "keep me"
    assert (target / "model.txt").read_text() == "new" and not (target / "model.txt").is_symlink()


def test_a_directory_symlink_in_output_path_is_refused(tmp_path):
    source, target, elsewhere = tmp_path / "src", tmp_path / "out", tmp_path / "elsewhere"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "w.txt").write_text("new")
    target.mkdir()
    elsewhere.mkdir()
    (target / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError, match="symlink in output_path"):
        deliver_tree(source, target)
    assert not list(elsewhere.iterdir())
