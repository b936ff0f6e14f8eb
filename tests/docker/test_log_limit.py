"""A container's log is capped as on ModelArts: past the cap its output is dropped, it runs on, the log says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session

from .conftest import CODE


def test_a_containers_output_past_the_cap_is_dropped_and_the_job_runs_on(
    session: Session, tmp_path: Path, python_image: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_MODELARTS_LOG_LIMIT", "300")
    command = ("python -c \"import os; [print('line', i, 'x' * 40) for i in range(200)]; "
               "open(os.environ['MA_MOUNT_PATH'] + '/outputs/train_url_0/done.txt', 'w').write('ran on')\"")
    job = Estimator(modelarts_session=session, code_dir=CODE, user_image_url=python_image, user_command=command,
                    train_instance_type="local", train_instance_count=1, output_path=tmp_path / "out").fit(wait=True)
    assert job.phase is JobPhase.COMPLETED and (tmp_path / "out" / "done.txt").read_text() == "ran on"
    log = job.logs()
    assert "[pytest-modelarts] log length overflow (max: 300 bytes)" in log and "line 199" not in log
