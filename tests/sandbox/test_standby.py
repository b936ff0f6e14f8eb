"""A job's supervisor and namespace holder come from a standby started after the previous job: the
job's start does not wait for theirs, and a waiting process never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from pytest_modelarts import JobPhase, Session
from pytest_modelarts.backends.local import nodes
from pytest_modelarts.backends.local.execution import SUPERVISORS, start_supervisor
from pytest_modelarts.backends.local.holder import ONE_WORKER_HOLDERS, holders_for, network_lines, start_holder
from pytest_modelarts.backends.local.standby import Standby, dismiss
from tests.support.processes import supervisors_of, tagged
from tests.support.waiting import wait_until

from .test_nodes import estimator


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _holder_target(procs: list[psutil.Process]) -> int:
    """The pid a worker's launcher enters (``nsenter -t PID``): the holder's shell, pid 1 of the job."""
    for proc in procs:
        argv = proc.cmdline()
        if argv[:1] == ["nsenter"]:
            return int(argv[argv.index("-t") + 1])
    raise AssertionError(f"no launcher among {[p.cmdline() for p in procs]}")


def test_a_job_takes_the_supervisor_and_the_holder_that_were_waiting(session: Session) -> None:
    estimator(session, hyper={"mode": "plain"}).fit(wait=True)  # after it, the standby is filled
    supervisors, holders = set(SUPERVISORS.waiting()), set(ONE_WORKER_HOLDERS.waiting())
    assert len(supervisors) >= 2 and len(holders) == 2  # more supervisors after a job of more workers
    tag = f"standby-tag-{uuid.uuid4().hex}"
    job = estimator(session, hyper={"mode": "sleep", "tag": tag}).fit(wait=False)
    try:
        wait_until(lambda: "started" in job.logs(), what="the worker")
        procs = tagged(tag)
        (supervisor,) = supervisors_of(procs)
        assert supervisor.pid in supervisors
        assert psutil.Process(_holder_target(procs)).ppid() in holders  # the shell under the waiting unshare
    finally:
        job.stop()
    assert len(SUPERVISORS.waiting()) >= 2 and len(ONE_WORKER_HOLDERS.waiting()) == 2  # refilled for the next job


def test_a_job_of_three_workers_takes_them_all_started_after_a_job_of_three(session: Session) -> None:
    """Every worker's supervisor and the job's holder with its three-worker network were started beforehand."""
    estimator(session, 3, hyper={"mode": "plain"}).fit(wait=True)
    standby = holders_for(3)
    assert standby is not None
    supervisors, holders = set(SUPERVISORS.waiting()), set(standby.waiting())
    assert len(supervisors) >= 3 and len(holders) == 2
    tag = f"standby-tag-{uuid.uuid4().hex}"
    job = estimator(session, 3, hyper={"mode": "sleep", "tag": tag}).fit(wait=False)
    try:
        wait_until(lambda: all("started" in job.logs(i) for i in range(3)), what="the three workers")
        procs = tagged(tag)
        taken = supervisors_of(procs)
        assert len(taken) == 3 and {proc.pid for proc in taken} <= supervisors
        assert psutil.Process(_holder_target(procs)).ppid() in holders
    finally:
        job.stop()
    assert len(SUPERVISORS.waiting()) >= 3 and len(standby.waiting()) == 2


PARENT = """
import sys, time
from pytest_modelarts import Estimator, Session
from pytest_modelarts.backends.local.execution import SUPERVISORS
from pytest_modelarts.backends.local.holder import ONE_WORKER_HOLDERS, network_lines, start_holder
session = Session(local_root=sys.argv[1], stream_logs=False, sandbox=True)
Estimator(modelarts_session=session, code_dir=sys.argv[2], boot_file="node.py", train_instance_type="local",
          train_instance_count=1, hyperparameters=[{"label": "mode", "value": "plain"}]).fit(wait=True)
print(*SUPERVISORS.waiting(), *ONE_WORKER_HOLDERS.waiting(), flush=True)
if sys.argv[3] == "exit":
    sys.stdin.readline()  # until the test has seen the waiting processes alive
    sys.exit(0)
time.sleep(600)
"""


def _waiting_of_a_parent(tmp_path: Path, how: str) -> tuple[subprocess.Popen[str], list[int]]:
    from .conftest import CODE

    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "root"), str(CODE), how],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    waiting = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(waiting) == 4, waiting  # two supervisors, two holders
    assert all(psutil.Process(pid).is_running() for pid in waiting)
    return parent, waiting


def test_the_waiting_processes_end_with_a_killed_parent(tmp_path: Path) -> None:
    parent, waiting = _waiting_of_a_parent(tmp_path, "sleep")
    holder_shells = [child.pid for pid in waiting[2:] for child in psutil.Process(pid).children()]
    parent.kill()
    parent.wait()
    wait_until(lambda: all(_gone(pid) for pid in [*waiting, *holder_shells]),
               what="the standby supervisors and holder to end after their parent was SIGKILLed")


def test_the_waiting_processes_end_when_their_parent_exits(tmp_path: Path) -> None:
    parent, waiting = _waiting_of_a_parent(tmp_path, "exit")
    parent.communicate("exit now\n", timeout=30)
    assert parent.returncode == 0
    wait_until(lambda: all(_gone(pid) for pid in waiting), what="the standby to end at its parent's exit")


def test_a_supervisor_dismissed_before_its_job_runs_nothing(tmp_path: Path) -> None:
    proc = start_supervisor()
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(30) == 0
    assert list(tmp_path.iterdir()) == []


def _fork(standby: Standby, then_take: bool) -> tuple[int, int]:
    """A forked child that reports (after taking a supervisor, if told to) and lives on: (its pid, what it took)."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            taken = standby.take().pid if then_take else 0
            os.write(write_end, f"{taken}\n".encode())
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        return child, int(fh.readline())


def test_a_forked_process_does_not_take_its_parents_standby() -> None:
    standby = Standby(start_supervisor)
    standby.refill()
    (theirs,) = standby.waiting()
    child, taken = _fork(standby, then_take=True)
    try:
        assert taken not in (0, theirs) and standby.waiting() == [theirs]
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        standby.close()


def test_a_forked_process_does_not_keep_its_parents_standby_alive() -> None:
    """What ends a waiting process when its parent dies is EOF on its stdin: a forked child must not hold it open."""
    standby = Standby(start_supervisor)
    standby.refill()
    child, _ = _fork(standby, then_take=False)
    proc = standby.take()  # the waiting one
    try:
        dismiss(proc)  # EOF reaches it while the child lives on: it ends by itself, not killed after 5 s
        assert proc.returncode == 0
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        standby.close()


def test_closing_kills_what_waits_even_while_it_starts() -> None:
    """At exit a run closes its standbys: what waits has no work, so it is killed, not waited for (one refilled as
    the last job ended may still be starting), and nothing starts after."""
    standby = Standby(lambda: start_holder(network_lines(1)), depth=2)
    standby.refill()
    holders = [psutil.Process(pid) for pid in standby.waiting()]
    shells = [child for holder in holders for child in wait_until(holder.children, what="the shells")]  # noqa: B023
    standby.close()
    standby.refill()
    assert standby.waiting() == []
    wait_until(lambda: all(_gone(p.pid) for p in [*holders, *shells]), what="the holders and their shells to end")


def test_a_waiting_holder_that_fails_does_not_fail_the_next_job(session: Session, tmp_path: Path) -> None:
    """A holder that dies between being taken and saying "ready" (here: made to run `exit 3` once it reads the
    job's first line, through its stdin) costs the job a fresh holder, not its run."""
    estimator(session, hyper={"mode": "plain"}).fit(wait=True)
    for holder in ONE_WORKER_HOLDERS.waiting():
        (shell,) = wait_until(lambda: psutil.Process(holder).children(), what="the holder's shell")  # noqa: B023
        with open(f"/proc/{shell.pid}/fd/0", "wb") as stdin:  # the same pipe the job will write to
            stdin.write(b"read line; exit 3\n")  # it reads a line at a time: exits at the job's first
            stdin.flush()
            # the shell must have taken our line before the job writes: read together with the job's lines, they would
            # sit in its buffer while `read` waits on the pipe for a line that never comes
            wait_until(lambda: _unread(stdin) == 0, what="the holder's shell to read the injected line")  # noqa: B023
    job = estimator(session, output_path=tmp_path / "out", hyper={"mode": "plain"}).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED and (tmp_path / "out" / "worker-0.json").is_file()


def test_a_waiting_holder_that_never_answers_is_given_up_for_a_fresh_one(session: Session, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A holder stuck before saying "ready" (here: made to sleep before it reads the job's lines) is killed after
    READY_TIMEOUT and the job runs on a fresh holder: its start never hangs."""
    monkeypatch.setattr(nodes, "READY_TIMEOUT", 3.0)
    estimator(session, hyper={"mode": "plain"}).fit(wait=True)
    stuck = []
    for holder in ONE_WORKER_HOLDERS.waiting():
        (shell,) = wait_until(lambda: psutil.Process(holder).children(), what="the holder's shell")  # noqa: B023
        stuck.append(shell)
        with open(f"/proc/{shell.pid}/fd/0", "wb") as stdin:
            stdin.write(b"sleep 600\n")
            stdin.flush()
            wait_until(lambda: _unread(stdin) == 0, what="the holder's shell to read the injected line")  # noqa: B023
    job = estimator(session, output_path=tmp_path / "out", hyper={"mode": "plain"}).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED and (tmp_path / "out" / "worker-0.json").is_file()
    assert any(_gone(shell.pid) for shell in stuck), "the stuck holder the job took was killed"


#: processes started while the environment changes (EFAULT came 86 times in 5 s where it came)
STARTS = 20


def test_starting_ahead_from_a_thread_while_the_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiting processes start in a thread while the main thread may change os.environ (a test's setenv): started
    with the inherited environment, execve read the changing ``environ`` and failed with EFAULT (86 times in
    5 s when measured); each is started with an environment of its own."""
    errors: list[OSError] = []
    started = 0
    stop = threading.Event()

    def start_all() -> None:
        nonlocal started
        while not stop.is_set():
            for start in (start_supervisor, lambda: start_holder(network_lines(1))):
                try:
                    dismiss(start())
                    started += 1
                except OSError as exc:
                    errors.append(exc)

    thread = threading.Thread(target=start_all)
    thread.start()
    # the environment changes until a number of processes have started meanwhile, however long a loaded machine
    # takes for them (the limit only ends a hung run)
    deadline = time.monotonic() + 300
    i = 0
    try:
        while started < STARTS and not errors and time.monotonic() < deadline:
            monkeypatch.setenv(f"STANDBY_TEST_{i % 50}", "y" * (i % 200))
            if i % 3 == 0:
                monkeypatch.delenv(f"STANDBY_TEST_{(i * 7) % 50}", raising=False)
            i += 1
    finally:
        stop.set()
        thread.join()
    assert errors == [] and started >= STARTS, f"{started} started, errors: {errors}"


def _unread(pipe: Any) -> int:
    """Bytes written to a pipe and not read yet (FIONREAD)."""
    import array
    import fcntl
    import termios

    count = array.array("i", [0])
    fcntl.ioctl(pipe.fileno(), termios.FIONREAD, count, True)
    return count[0]
