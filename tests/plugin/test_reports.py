"""Reports: the terminal summary lists each job; junitxml carries the same as properties, logs as attachments."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.pytest_plugin.reporting import JobRecord

TESTS = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={"epochs": 2})
def test_good(modelarts_job):
    pass

@pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={"exit": 3})
def test_bad(modelarts_job):
    pass

def test_plain():
    pass
"""


def _properties(case: ET.Element) -> list[tuple[str, str]]:
    return [(p.get("name"), p.get("value")) for p in case.iter("property")]


def test_the_summary_lists_each_job_with_status_duration_and_environment(project: pytest.Pytester) -> None:
    project.makepyfile(TESTS)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*= ModelArts jobs =*",
        "test_good  Completed  *s  unisolated  exit 0  test_the_summary_lists_each_job*.py::test_good*",
        "test_bad   Failed     *s  unisolated  exit 3  test_the_summary_lists_each_job*.py::test_bad*",
        "    sandbox kept: */.modelarts/pytest/main/runs/test_bad-*",
    ])
    assert "ModelArts jobs" not in project.runpytest("-k", "plain").stdout.str()


def test_junitxml_has_job_properties_and_the_failed_log_attached(project: pytest.Pytester) -> None:
    project.makepyfile(TESTS)
    project.runpytest("--modelarts", "--junitxml=report.xml")
    cases = {c.get("name"): c for c in ET.parse(project.path / "report.xml").getroot().iter("testcase")}
    good, bad = dict(_properties(cases["test_good"])), dict(_properties(cases["test_bad"]))
    assert good["modelarts_job"] == "test_good" and good["modelarts_status"] == "Completed"
    assert good["modelarts_exit_code"] == "0" and good["modelarts_env_hash"] == "unisolated"
    assert float(good["modelarts_duration"]) > 0 and len(good["modelarts_job_id"]) == 8
    assert "--epochs=2" in good["modelarts_command"]
    assert "modelarts_sandbox" not in good  # removed with the passing run
    assert bad["modelarts_status"] == "Failed" and bad["modelarts_exit_code"] == "3"
    assert (project.path / ".modelarts").as_posix() in bad["modelarts_sandbox"]
    log = bad["modelarts_log"]
    assert log.endswith("worker-0.log")
    assert "boom: failing on purpose" in open(log).read()
    assert cases["test_bad"].find("system-out").text == f"[[ATTACHMENT|{log}]]\n"
    assert "exit code: 3" in cases["test_bad"].find("failure").text
    assert _properties(cases["test_plain"]) == []


def test_junit_logging_system_out_carries_the_attachment_in_the_captured_output(project: pytest.Pytester) -> None:
    project.makepyfile(TESTS)
    project.runpytest("--modelarts", "--junitxml=report.xml", "-o", "junit_logging=system-out", "-k", "bad")
    (case,) = [c for c in ET.parse(project.path / "report.xml").getroot().iter("testcase")]
    outs = case.findall("system-out")
    assert len(outs) == 1 and "[[ATTACHMENT|" in outs[0].text


def test_an_environment_problem_is_an_error_with_its_fix_not_a_traceback(project: pytest.Pytester, tmp_path) -> None:
    """CI's lock mode check: a spec changed since its lock was committed errors at setup, saying how to re-lock."""
    project.makeini(f"[pytest]\nmodelarts = yes\nmodelarts_python_source = local\nmodelarts_cache_dir = {tmp_path / 'envs'}\n")
    (project.path / "env.toml").write_text('name = "ci-env"\nconda_packages = ["python=3.11"]\n')
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", environment="env.toml")
        def test_smoke(modelarts_job):
            pass
        """
    )
    project.runpytest().assert_outcomes(passed=1)  # locks (create mode) and runs
    (project.path / "env.toml").write_text('name = "ci-env"\nconda_packages = ["python=3.11"]\npip_packages = ["six"]\n')
    result = project.runpytest("--modelarts-lock-mode=check")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_smoke*", "LockError: lock_mode=check: *ci-env.conda-lock.yml is stale*"])
    text = result.stdout.str()
    assert "(pip_packages added ['six'])" in text and "pytest --modelarts-lock-mode=update" in text
    assert "lock.py" not in result.stdout.str()  # no traceback through our code


def test_output_conflicts_of_a_multi_node_smoke_job_show_in_the_summary_and_junitxml(project: pytest.Pytester) -> None:
    (project.path / "code" / "same.py").write_text(
        "import argparse, os\n"
        "p = argparse.ArgumentParser(); p.add_argument('--train_url'); a, _ = p.parse_known_args()\n"
        "open(os.path.join(a.train_url, 'model.pkl'), 'w').write(os.environ['VC_TASK_INDEX'])\n"
    )
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="same.py", train_instance_count=2)
        def test_two_nodes(modelarts_job):
            assert modelarts_job.file("model.pkl").read_text() == "0"
        """
    )
    result = project.runpytest("--modelarts", "--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["    output conflict: model.pkl (workers 0, 1) wrote different contents*"])
    props = {p.get("name"): p.get("value") for p in ET.parse(project.path / "out.xml").iter("property")}
    assert props["modelarts_output_conflict"] == "model.pkl (workers 0, 1)"


def test_a_lost_write_shows_in_the_summary_the_failure_report_and_junitxml(project: pytest.Pytester) -> None:
    """A file written next to the code is lost online: the smoke run says so (sandboxed nodes, docs/sandbox.md)."""
    from tests.support.requirements import require_sandbox

    require_sandbox()
    (project.path / "code" / "lost.py").write_text(
        "import argparse, sys\np = argparse.ArgumentParser(); p.add_argument('--exit', type=int, default=0)\n"
        "a, _ = p.parse_known_args()\nopen('model.pkl', 'w').write('weights')\nsys.exit(a.exit)\n"
    )
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="lost.py")
        def test_kept_nothing(modelarts_job):
            pass

        @pytest.mark.modelarts(code_dir="code", boot_file="lost.py", smoke_hyperparameters={"exit": 2})
        def test_failed_too(modelarts_job):
            pass
        """
    )
    result = project.runpytest("--modelarts", "--junitxml=out.xml")
    result.assert_outcomes(passed=1, errors=0, failed=1)
    result.stdout.fnmatch_lines(["  lost:      user-job-dir/model.pkl (created) (online, what a job writes outside --train_url is lost)"])
    result.stdout.fnmatch_lines(["    lost write: user-job-dir/model.pkl (created): online this file is lost; write it under --train_url"])
    props = [(p.get("name"), p.get("value")) for p in ET.parse(project.path / "out.xml").iter("property")]
    assert props.count(("modelarts_lost_write", "user-job-dir/model.pkl (created)")) == 2


def test_the_cause_is_in_the_summary_line_and_the_junit_message(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")  # pytest prints the summary's message whole on CI (else trimmed to the terminal)
    (project.path / "code" / "needs.py").write_text("print('starting')\nimport pandas_that_is_not_there\n")
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="needs.py")
        def test_missing_dep(modelarts_job):
            pass
        """
    )
    result = project.runpytest("--modelarts", "-rf", "--junitxml=out.xml")
    result.assert_outcomes(errors=0, failed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_missing_dep - ModuleNotFoundError: No module named "
                                 "'pandas_that_is_not_there'*"])
    (failure,) = ET.parse(project.path / "out.xml").getroot().iter("failure")
    assert failure.get("message", "").startswith(
        "ModuleNotFoundError: No module named 'pandas_that_is_not_there' (ModelArts job 'test_missing_dep'")


def test_a_multi_node_failure_shows_the_failing_workers_tail(project: pytest.Pytester) -> None:
    (project.path / "code" / "one_fails.py").write_text(
        "import os, sys, time\n"
        "i = int(os.environ['VC_TASK_INDEX'])\n"
        "print(f'worker {i} says hello', flush=True)\n"
        "if i == 1:\n    raise RuntimeError('worker one broke')\n"
        "time.sleep(30)\n"
    )
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="one_fails.py", train_instance_count=2)
        def test_two(modelarts_job):
            pass
        """
    )
    result = project.runpytest("--modelarts", "-rf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: worker one broke (worker 1) (ModelArts job 'test_two'*",
                                 "  failed:    worker 1: its log follows"])
    out = result.stdout.str()
    tail = out[out.index("--- last "):]
    assert "worker 1 says hello" in tail and "worker 0 says hello" not in tail


def test_small_things_of_the_report(project: pytest.Pytester) -> None:
    """A phase prints as the API spells it; --tb=line gives the cause in one line; -qq prints nothing of ours; a skip
    without --modelarts points at the test, not at the plugin."""
    from pytest_modelarts import JobPhase

    assert str(JobPhase.RUNNING) == "Running" and f"{JobPhase.COMPLETED}" == "Completed"
    project.makepyfile(test_small=TESTS)
    line = project.runpytest("--modelarts", "--tb=line", "-k", "bad")
    line.assert_outcomes(failed=1, deselected=2)
    line.stdout.fnmatch_lines(["boom: failing on purpose (ModelArts job 'test_bad' failed with exit code 3)"])
    assert "--- last" not in line.stdout.str()
    quiet = project.runpytest("--modelarts", "-qq", "-k", "good")
    assert "ModelArts jobs" not in quiet.stdout.str()
    skipped = project.runpytest("-rs", "-k", "good")
    skipped.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_small.py:*: ModelArts smoke test: run pytest with --modelarts*"])


def test_a_timed_out_job_shows_where_it_was_stuck(project: pytest.Pytester) -> None:
    (project.path / "code" / "hangs.py").write_text(
        "import time\n\n\ndef stuck_in_the_data_loader():\n    time.sleep(120)\n\n\n"
        "print('loading', flush=True)\nstuck_in_the_data_loader()\n")
    project.makepyfile(
        """
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="hangs.py", timeout=3)
        def test_hangs(modelarts_job):
            pass
        """
    )
    result = project.runpytest("--modelarts")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within 3.0 s; it was stopped*", "*Current thread * (most recent call first):*",
                                 "*line 5 in stuck_in_the_data_loader*"])


def test_a_job_record_is_a_typed_value_that_crosses_to_the_xdist_controller_as_plain_data(sdk_session: Session, code_dir: Path) -> None:
    job = Estimator(modelarts_session=sdk_session, code_dir=code_dir, boot_file="train.py", train_instance_type="local",
                    train_instance_count=1).fit(wait=True, job_name="recorded")
    record = JobRecord.of(job, "test_x.py::test_x", kept=False)
    assert (record.job_name, record.phase, record.exit_code, record.kept) == ("recorded", JobPhase.COMPLETED, 0, False)
    assert record.logs == tuple(job.log_locations()) and not record.failed
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.kept = True  # type: ignore[misc]
    data = json.loads(json.dumps(record.to_data()))  # plain data: it survives JSON too
    assert data["phase"] == "Completed" and data["logs"] == job.log_locations()
    assert JobRecord.from_data(data) == record
