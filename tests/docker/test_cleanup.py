"""No container or network outlives its job: timeout, stop(), SIGINT and SIGKILL of the parent, leftovers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, JobTimeoutError, Session
from pytest_modelarts.backends.docker import owners
from pytest_modelarts.backends.docker import owners as dk_owners

from .conftest import CODE, labelled

pytestmark = pytest.mark.docker


def sleeper(session: Session, image: str, count: int = 2) -> Estimator:
    return Estimator(modelarts_session=session, code_dir=CODE, user_image_url=image, train_instance_type="local",
                     train_instance_count=count, user_command="python ${MA_JOB_DIR}/code/jobs.py --mode=sleep")


def test_timeout_removes_containers_and_network(session: Session, python_image: str, docker_client) -> None:
    job = sleeper(session, python_image).fit()
    assert labelled(docker_client, job.job_id) == (2, 1)
    with pytest.raises(JobTimeoutError):
        job.wait(timeout=0.5)
    assert job.phase is JobPhase.TERMINATED
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_stop_removes_containers_and_network(session: Session, python_image: str, docker_client) -> None:
    job = sleeper(session, python_image).fit()
    assert labelled(docker_client, job.job_id) == (2, 1)
    job.stop()
    assert job.phase is JobPhase.TERMINATED
    assert labelled(docker_client, job.job_id) == (0, 0)


PARENT = """
import sys, time
from pytest_modelarts import Estimator, Session
session = Session(local_root={root!r}, stream_logs=False, stop_grace_period=1)
job = Estimator(modelarts_session=session, code_dir={code!r}, user_image_url={image!r}, train_instance_type="local",
                train_instance_count=2, user_command="python ${{MA_JOB_DIR}}/code/jobs.py --mode=sleep").fit()
print(job.job_id, flush=True)
job.wait()
"""


def start_parent(tmp_path: Path, image: str) -> tuple[subprocess.Popen[str], str]:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT.format(root=str(tmp_path / "root"), code=str(CODE), image=image)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    job_id = proc.stdout.readline().strip()
    assert job_id, "the parent did not start its job"
    return proc, job_id


def test_sigint_of_the_parent_removes_everything(tmp_path: Path, python_image: str, docker_client) -> None:
    proc, job_id = start_parent(tmp_path, python_image)
    assert labelled(docker_client, job_id) == (2, 1)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) != 0  # KeyboardInterrupt
    assert labelled(docker_client, job_id) == (0, 0)


def test_sigterm_of_the_parent_removes_everything_before_it_dies(tmp_path: Path, python_image: str, docker_client) -> None:
    proc, job_id = start_parent(tmp_path, python_image)
    assert labelled(docker_client, job_id) == (2, 1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == -signal.SIGTERM  # it still dies of the signal
    assert labelled(docker_client, job_id) == (0, 0)


def killed_parent_leftovers(tmp_path: Path, image: str, client) -> str:  # type: ignore[no-untyped-def]
    proc, job_id = start_parent(tmp_path, image)
    assert labelled(client, job_id) == (2, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert labelled(client, job_id) == (2, 1)  # nobody was left to clean up
    return job_id


def test_sigkill_of_the_parent_leftovers_are_removed_when_the_next_pytest_run_starts(
    pytester: pytest.Pytester, tmp_path: Path, python_image: str, docker_client,
) -> None:
    job_id = killed_parent_leftovers(tmp_path, python_image, docker_client)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert labelled(docker_client, job_id) == (0, 0)


def test_sigkill_of_the_parent_leftovers_are_removed_by_the_clean_command(tmp_path: Path, python_image: str, docker_client) -> None:
    job_id = killed_parent_leftovers(tmp_path, python_image, docker_client)
    result = subprocess.run([sys.executable, "-m", "pytest_modelarts.cli", "clean"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "removed" in result.stdout
    assert labelled(docker_client, job_id) == (0, 0)


def test_cleanup_leaves_jobs_of_living_processes_alone(session: Session, python_image: str, docker_client) -> None:
    with sleeper(session, python_image, count=1).fit() as job:
        report = dk_owners.cleanup_leftovers()
        assert report.error is None
        assert labelled(docker_client, job.job_id) == (1, 1)
        assert job.phase is JobPhase.RUNNING
    assert labelled(docker_client, job.job_id) == (0, 0)


def test_cleanup_without_a_daemon_reports_instead_of_raising(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    report = dk_owners.cleanup_leftovers()
    assert report.containers == [] and report.error and "no Docker daemon answers" in report.error
    assert "nothing removed" in str(report)


def test_owner_of_a_dead_process_is_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    token = owners._owner_token(proc.pid)
    assert owners._owner_alive(token)
    proc.wait()
    assert not owners._owner_alive(token)
    assert owners._owner_alive(owners._owner_token(os.getpid()))
    assert owners._owner_alive("another-host/1/1")  # other machines sharing the daemon are not ours to judge


REPORT_DOCKER_IMPORT = """
import sys

def pytest_sessionfinish(session):
    print("docker imported:", "docker" in sys.modules)
"""


def test_start_up_asks_docker_only_when_a_noted_owner_died(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_client,
) -> None:
    """Without a note of a dead owner, `pytest --modelarts` neither imports the Docker SDK nor calls Docker."""
    owners = tmp_path / "owners"
    monkeypatch.setenv(dk_owners.OWNERS_VARIABLE, str(owners))
    pytester.makeconftest(REPORT_DOCKER_IMPORT)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    args = ("--modelarts", "-p", "no:cacheprovider", "-s")
    quiet = pytester.runpytest_subprocess(*args)
    quiet.assert_outcomes(passed=1)
    quiet.stdout.fnmatch_lines(["*docker imported: False*"])
    owners.mkdir()
    (owners / "dead").write_text(f"{socket.gethostname()}/999999999/1")  # no process has that pid
    woken = pytester.runpytest_subprocess(*args)
    woken.assert_outcomes(passed=1)
    woken.stdout.fnmatch_lines(["*docker imported: True*"])
    assert not (owners / "dead").exists()  # its leftovers were looked for, then the note forgotten


def test_a_process_that_ran_containers_notes_itself_until_it_exits(tmp_path: Path, python_image: str) -> None:
    owners = tmp_path / "owners"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        from pytest_modelarts import Estimator, Session
        session = Session(local_root={str(tmp_path / 'root')!r}, stream_logs=False)
        Estimator(modelarts_session=session, code_dir={str(CODE)!r}, user_image_url={python_image!r},
                  train_instance_type="local", train_instance_count=1,
                  user_command="python ${{MA_JOB_DIR}}/code/jobs.py --mode=connect --target=127.0.0.1:1").fit(wait=True)
        print("notes while running:", len(os.listdir({str(owners)!r})))
    """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env={**os.environ, dk_owners.OWNERS_VARIABLE: str(owners)})
    assert result.returncode == 0, result.stderr
    assert "notes while running: 1" in result.stdout
    assert list(owners.iterdir()) == []  # a clean exit forgets the note
