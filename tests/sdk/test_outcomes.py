"""A job's outcome as typed values: the failing worker from the execution, errors whose fields a report reads, one
bounded log tail served by the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobFailedError, JobPhase, JobStoppedError, JobTimeoutError, Session
from pytest_modelarts.backends.workers import TAIL_LIMIT
from pytest_modelarts.errors import JobError
from pytest_modelarts.pytest_plugin.reporting import format_job_error


def run(session: Session, code: Path, boot: str) -> Estimator:
    (code / "boot.py").write_text(boot)
    return Estimator(modelarts_session=session, code_dir=code, boot_file="boot.py", train_instance_type="local",
                     train_instance_count=1)


def test_a_failed_job_raises_an_error_whose_fields_tell_the_outcome(sdk_session: Session, code_dir: Path) -> None:
    estimator = run(sdk_session, code_dir, "print('step 1', flush=True)\nraise ValueError('bad batch')\n")
    with pytest.raises(JobFailedError) as excinfo:
        estimator.fit(wait=True, job_name="fields")
    err = excinfo.value
    assert err.summary == "job 'fields' failed with exit code 1"
    assert (err.exit_code, err.failed_worker) == (1, 0)
    assert err.cause == "ValueError: bad batch"  # one worker: the line needs no worker named
    assert "step 1" in err.log_tail and err.log_tail[-1] == "ValueError: bad batch"
    assert err.logs == err.job.log_locations()
    assert str(err).startswith(f"job 'fields' failed with exit code 1; logs: {err.logs[0]}\n--- last log lines ---\n")


def test_stopped_and_timed_out_jobs_name_no_failing_worker(sdk_session: Session, code_dir: Path) -> None:
    estimator = run(sdk_session, code_dir, "import time\nprint('waiting', flush=True)\ntime.sleep(120)\n")
    with pytest.raises(JobTimeoutError) as timed_out:
        estimator.fit(wait=False, job_name="slow").wait(0.5)
    assert timed_out.value.failed_worker is None and timed_out.value.job.phase is JobPhase.TERMINATED
    assert "waiting" in timed_out.value.log_tail
    job = estimator.fit(wait=False, job_name="stopped")
    job.stop()
    with pytest.raises(JobStoppedError) as stopped:
        job.raise_for_status()
    assert stopped.value.failed_worker is None and stopped.value.summary == "job 'stopped' was stopped before it completed"


def test_the_tail_is_the_last_lines_read_from_the_end_and_bounded(sdk_session: Session, code_dir: Path) -> None:
    boot = ("import sys\n"
            "sys.stdout.write(''.join(f'line {i}\\n' for i in range(300_000)))\n"  # several read blocks
            "sys.stdout.write('x' * (TAIL_LIMIT + 2**20) + ' the end')\n"  # one line longer than the bound, unterminated
            ).replace("TAIL_LIMIT", str(TAIL_LIMIT))
    job = run(sdk_session, code_dir, boot).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED
    (last,) = job.tail(1)
    assert last.endswith("x the end") and set(last[:-8]) == {"x"}
    assert len(last) <= TAIL_LIMIT  # its last bytes, not the whole line
    assert job.tail(0) == []

    numbered = run(sdk_session, code_dir, "for i in range(300_000):\n    print(f'line {i}')\n").fit(wait=True)
    assert numbered.tail(3) == ["line 299997", "line 299998", "line 299999"]
    assert numbered.tail(20_000) == [f"line {i}" for i in range(280_000, 300_000)]  # across read blocks


def test_the_failure_report_is_made_of_the_errors_fields() -> None:
    err = JobFailedError("job 'x' failed with exit code 3; logs: no", log_tail=["a", "b", "ValueError: no"],
                         exit_code=3, failed_worker=1, cause="ValueError: no (worker 1)")
    text = format_job_error(err, 2)
    assert text.splitlines() == ["ValueError: no (worker 1) (ModelArts job 'x' failed with exit code 3; logs: no)",
                                 "--- last 2 log lines ---", "b", "ValueError: no"]
    assert format_job_error(JobError("job 'y' was lost"), 5).splitlines() == ["ModelArts job 'y' was lost",
                                                                               "--- last 0 log lines ---"]
