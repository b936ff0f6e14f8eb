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


READ_ONLY_RUN = """\
import json, subprocess, sys
from pytest_modelarts import Estimator, JobFailedError, Session
code, out, root = sys.argv[1:4]
session = Session(local_root=root, stream_logs=False, stop_grace_period=1.0)
est = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", train_instance_type="local",
                train_instance_count=1, output_path=out)
# output_path was writable when it was checked; it turns read-only while the job runs (a disk remounted read-only)
subprocess.run(["mount", "--bind", out, out], check=True)
subprocess.run(["mount", "-o", "remount,bind,ro", out, out], check=True)
job = est.fit(wait=False, job_name="deliver")
job.wait()
try:
    job.raise_for_status()
    print(json.dumps({"phase": job.phase.value, "error": None}))
except JobFailedError as exc:
    print(json.dumps({"phase": job.phase.value, "error": str(exc), "sandbox": str(job.sandbox)}))
"""


def test_a_read_only_output_path_fails_the_job_and_names_the_sandbox(code_dir, tmp_path):
    """A read-only mount, which stops root too: the job runs in a mount namespace of its own (``unshare``) where
    output_path is bound read-only after the job was configured."""
    import json
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        from tests.support.requirements import missing

        missing("sandbox", "unshare (util-linux) is needed to mount output_path read-only")
    (code_dir / "train.py").write_text(WRITE)
    out = tmp_path / "out"
    out.mkdir()
    namespaces = ["unshare", "--mount", "--propagation", "private"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    result = subprocess.run([*namespaces, sys.executable, "-c", READ_ONLY_RUN, str(code_dir), str(out),
                             str(tmp_path / "runs-root")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["phase"] == "Failed", seen
    assert "delivering the outputs to output_path" in seen["error"] and "intact outputs are in the sandbox, kept" in seen["error"]
    assert (Path(seen["sandbox"]) / "home" / "modelarts" / "outputs" / "train_url_0" / "model.bin").stat().st_size == 100000
    assert list(out.iterdir()) == []  # nothing half-written where the mount was


def test_an_output_path_that_cannot_be_created_fails_the_job(sdk_session, code_dir, tmp_path):
    """A file put where output_path's folder goes after the job was configured (given then, the path is refused
    at once: tests/gallery/test_bad_paths.py)."""
    (code_dir / "train.py").write_text(WRITE)
    est = Estimator(modelarts_session=sdk_session, code_dir=str(code_dir), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1, output_path=str(tmp_path / "a-file" / "out"))
    (tmp_path / "a-file").write_text("")
    job = est.fit(wait=False, job_name="deliver")
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
