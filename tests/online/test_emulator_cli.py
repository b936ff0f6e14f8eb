"""``python -m pytest_modelarts.emulator`` prints every variable to export (its test keys too, never keys taken
from the environment), serves until told to stop, and docs/online.md's recipe works as written."""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psutil
import requests

from pytest_modelarts import Estimator, JobPhase, Session

from .conftest import FLAVOR, TRAIN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "online.md"
KEY_VARIABLES = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_SDK_REGION",
                 "HUAWEICLOUD_SDK_SECURITY_TOKEN", "MODELARTS_ENDPOINT", "MODELARTS_OBS_ENDPOINT")


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without credentials or endpoints (the emulator's exports must supply them) and without
    the outer pytest's own variables."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES and not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    env.update(extra)
    return env


def reader(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream``, read by a thread (a pipe left unread would block its writer)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in iter(stream.readline, "")], daemon=True).start()
    return lines


def left_in_session(leader: int) -> list[psutil.Process]:
    """Processes still in the session ``leader`` started (its job runs, if it did not stop them)."""
    left = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == leader:
                left.append(p)
        except (ProcessLookupError, PermissionError, psutil.Error):
            pass
    return left


@contextmanager
def stopped_at_exit(proc: subprocess.Popen[str]) -> Iterator[None]:
    """``proc`` (started with ``start_new_session=True``) and everything of its session are gone when this exits:
    SIGTERM, then SIGKILL to its process group; then no process of its session may be left."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # not reaped yet: the group is still ours
                proc.wait(timeout=30)
        left = left_in_session(proc.pid)
        for p in left:
            p.kill()
        assert not left, f"left running by {proc.args}: {left}"


@contextmanager
def emulator_process(argv: list[str], env: dict[str, str], cwd: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The emulator started as ``argv``: yields the lines it printed up to ``# buckets`` and the exports among
    them. Always stopped, whatever the test did (:func:`stopped_at_exit`); it must exit with status 0."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None
    lines, errors = reader(proc.stdout), reader(proc.stderr)
    printed: list[str] = []
    with stopped_at_exit(proc):
        while not (printed and printed[-1].startswith("# buckets")):
            try:
                printed.append(lines.get(timeout=30).rstrip("\n"))
            except queue.Empty:
                raise AssertionError(f"the emulator printed no '# buckets' line in 30 s: {printed}") from None
        exports = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in printed if line.startswith("export "))
        yield printed, exports
    assert proc.returncode == 0, "".join(errors.queue)


def run_to_the_end(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``argv`` run in a session of its own, which is killed on timeout and must be empty when it ends."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    with stopped_at_exit(proc):
        out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def test_keys_from_the_environment_are_not_printed_and_sigterm_stops_it(tmp_path):
    env = clean_environment(HUAWEICLOUD_SDK_AK="CLIAK", HUAWEICLOUD_SDK_SK="cli-secret-value")
    argv = [sys.executable, "-m", "pytest_modelarts.emulator", "--root", str(tmp_path), "--bucket", "b1"]
    with emulator_process(argv, env, tmp_path) as (printed, exports):
        r = requests.get(exports["MODELARTS_ENDPOINT"] + "/v2/emulator-project/training-jobs/x", timeout=5)
        assert r.status_code == 401 and r.json()["error_code"] == "APIGW.0301"
        assert (tmp_path / "obs" / "b1").is_dir()
    assert set(exports) == {"MODELARTS_ENDPOINT", "MODELARTS_OBS_ENDPOINT", "HUAWEICLOUD_SDK_PROJECT_ID"}
    assert "# HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK: this environment's, not printed" in printed
    assert "cli-secret-value" not in "\n".join(printed) and "CLIAK" not in "\n".join(printed)


def test_without_keys_it_makes_random_test_keys_and_prints_them_so_a_session_can_run_a_job(tmp_path, online_code, online_data):
    argv = [sys.executable, "-m", "pytest_modelarts.emulator", "--root", str(tmp_path / "state"), "--bucket", "b1",
            "--phase-delay", "0.1"]
    with emulator_process(argv, clean_environment(), tmp_path) as (_, exports):
        assert {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "MODELARTS_ENDPOINT",
                "MODELARTS_OBS_ENDPOINT"} == set(exports)
        session = Session(exports["HUAWEICLOUD_SDK_AK"], exports["HUAWEICLOUD_SDK_SK"], exports["HUAWEICLOUD_SDK_PROJECT_ID"],
                          endpoint=exports["MODELARTS_ENDPOINT"], obs_endpoint=exports["MODELARTS_OBS_ENDPOINT"],
                          local_root=str(tmp_path / ".modelarts"))
        job = Estimator(modelarts_session=session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                        framework_type="PyTorch",
                        train_instance_count=1, output_path="obs://b1/out/").fit(inputs=str(online_data), wait=True)
        assert job.phase is JobPhase.COMPLETED and "epochs 1 data ['train.csv']" in job.logs()
        assert (tmp_path / "state" / "obs" / "b1" / "out" / "model.txt").read_text() == "trained 1"
    with emulator_process(argv, clean_environment(), tmp_path) as (_, again):
        assert again["HUAWEICLOUD_SDK_SK"] != exports["HUAWEICLOUD_SDK_SK"]  # fresh at each start


def doc_blocks() -> list[str]:
    """The fenced blocks of docs/online.md's '## The emulator', up to its first subsection."""
    text = DOCS.read_text()
    section = text[text.index("\n## The emulator\n"):]
    section = section[: section.index("\n### ")]
    return re.findall(r"^```[a-z]*\n(.*?)^```$", section, flags=re.S | re.M)


def test_the_documented_recipe_works_as_written(tmp_path):
    """docs/online.md: start the emulator as shown, export what it prints (the variables the docs list), and the
    documented test file promotes a job that completes online, through the plugin in a fresh pytest."""
    start, shown, test_file, run = doc_blocks()
    command, wait, source = start.splitlines()
    assert command.endswith(" > emulator.env &") and wait.startswith("until grep -q '^# buckets'") and source == ". ./emulator.env"
    argv = shlex.split(command.removesuffix(" > emulator.env &"))
    assert argv[:3] == ["python", "-m", "pytest_modelarts.emulator"]
    bucket = argv[argv.index("--bucket") + 1]
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "train.py").write_text(TRAIN)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("x,y\n1,2\n")
    (tmp_path / "test_train.py").write_text(test_file)
    pytest_line = run.splitlines()[0].split("#")[0]
    pytest_argv = shlex.split(pytest_line)
    assert pytest_argv[0] == "pytest"
    with emulator_process([sys.executable, *argv[1:], "--root", str(tmp_path / "state")], clean_environment(), tmp_path) as (printed, exports):
        documented = [line for line in shown.splitlines() if line.startswith("export ")]
        assert [line.split("=")[0] for line in printed if line.startswith("export ")] == [line.split("=")[0] for line in documented]
        for line in documented:
            name, value = line.removeprefix("export ").split("=", 1)
            if "127.0.0.1" not in value:  # the ports are free ones
                assert exports[name] == value, name
        assert printed[-1].startswith(f"# buckets: {bucket}; state in ")
        result = run_to_the_end([sys.executable, "-m", "pytest", *pytest_argv[1:]], clean_environment(**exports), tmp_path, 300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"promoted online.*\n.*test_train\s+job id \S+\s+Completed\s+modelarts\.vm\.cpu\.2u", result.stdout), result.stdout
    assert (tmp_path / "state" / "obs" / bucket / "run1" / "output" / "model.txt").read_text() == "trained 1"


def test_users_get_the_emulator_fixture_from_the_plugin(pytester):
    """No conftest needed: the plugin brings ``modelarts_emulator`` for users' tests of the online path."""
    pytester.makepyfile(
        """
        def test_it(modelarts_emulator):
            session = modelarts_emulator.session()
            assert session.endpoint == modelarts_emulator.endpoint
            assert modelarts_emulator.jobs() == []
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
