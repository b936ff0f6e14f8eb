"""``--modelarts-promote``: passing smoke tests submit their online configuration once; failed ones nothing.

These run pytest in a subprocess: pytester's in-process runs restore sys.modules afterwards, and the HTTP
client of the online backend must not outlive the modules (requests' cookie classes) it was built from.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.support.engines import build_index, engine_pythons_present

FLAVOR = "modelarts.vm.cpu.2u"


@pytest.fixture(scope="module")
def engine_index(tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("engine-index"))


@pytest.fixture
def online(modelarts_emulator, monkeypatch, engine_index):
    for name, value in modelarts_emulator.env().items():
        monkeypatch.setenv(name, value)
    # online boot-file jobs run on a preset engine; its framework comes from the stand-in index, its Python from a
    # local interpreter (tests/support/engines.py)
    engine_pythons_present()
    monkeypatch.setenv("UV_INDEX", engine_index.as_uri())
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")
    return modelarts_emulator


def test_passing_tests_are_promoted_once_with_full_values_and_reported(project: pytest.Pytester, online) -> None:
    bucket = online.bucket
    project.makepyfile(f"""
        import pytest

        smoke = pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch",
                                      hyperparameters={{"epochs": 6}}, smoke_hyperparameters={{"epochs": 2}},
                                      inputs="data/full", smoke_inputs="data/small",
                                      online_output_path="obs://{bucket}/out/")

        @smoke
        def test_passes(modelarts_job):
            pass

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", smoke_hyperparameters={{"exit": 1}},
                               online_output_path="obs://{bucket}/bad/", inputs="data/full")
        def test_fails(modelarts_job):
            pass
    """)
    args = ("--modelarts", "--modelarts-promote", "--modelarts-promote-wait", f"--modelarts-instance-type={FLAVOR}")
    result = project.runpytest_subprocess(*args, "--junitxml=first.xml")
    result.assert_outcomes(passed=1, failed=1)
    (job,) = online.jobs()
    job_id = job["metadata"]["id"]
    assert job["metadata"]["name"] == "test_passes"
    assert job["spec"]["resource"]["flavor_id"] == FLAVOR
    assert [p["value"] for p in job["algorithm"]["parameters"] if p["name"] == "epochs"] == ["6"]  # full values
    result.stdout.fnmatch_lines(["*- promoted online -*", f"test_passes  job id {job_id}  Completed  {FLAVOR}  (submitted)  *::test_passes"])
    out = result.stdout.str()
    assert job_id not in out[out.index("= ModelArts jobs ="):out.index("- promoted online -")]  # not again as a smoke job
    cases = {c.get("name"): c for c in ET.parse(project.path / "first.xml").getroot().iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_passes"].iter("property")}
    assert props["modelarts_promoted_job_id"] == job_id and props["modelarts_promoted_status"] == "Completed"
    ledger = json.loads((project.path / ".modelarts" / "promotions.json").read_text())
    (smoke,) = [r["smoke"] for r in ledger["records"].values()]  # what the passing smoke run ran with
    assert smoke["contract"] == "v2" and smoke["labels"] == ["epochs"] and smoke["command"][-1] == "--epochs=2"
    assert "MA_JOB_DIR" in smoke["variables"] and not [v for v in smoke["variables"] if v.startswith("DLS_")]

    rerun = project.runpytest_subprocess(*args, "-k", "passes")
    rerun.assert_outcomes(passed=1)
    rerun.stdout.fnmatch_lines([f"test_passes  job id {job_id}  *(already in the ledger)*"])
    assert online.create_requests == 1


def test_a_smoke_run_that_differs_from_the_online_job_is_not_promoted(project: pytest.Pytester, online) -> None:
    """A v1 smoke run says nothing about a v2 online job: promotion refuses, before submitting anything."""
    (project.path / "code" / "old.py").write_text(
        "import argparse\nimport moxing as mox\np = argparse.ArgumentParser(); p.add_argument('--train_url')\n"
        "a, _ = p.parse_known_args()\nmox.file.write(a.train_url + 'model.bin', 'weights')\n")
    project.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="old.py", framework_type="PyTorch", contract="v1", inputs="data/full",
                               online_output_path="obs://{online.bucket}/out/")
        def test_old_style(modelarts_job):
            pass
    """)
    result = project.runpytest_subprocess("--modelarts", "--modelarts-promote", f"--modelarts-instance-type={FLAVOR}")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*promotion of 'test_old_style' refused: the online job would differ from the smoke run*",
                                 "*contract: the smoke run reproduced v1 (old-version) jobs*"])
    assert online.jobs() == []


def test_promotion_without_a_flavor_is_a_usage_error_that_says_how_before_any_run(project: pytest.Pytester, online) -> None:
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", inputs="data/small")
        def test_no_flavor(modelarts_job):
            pass
    """)
    result = project.runpytest_subprocess("--modelarts", "--modelarts-promote")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stderr.str()
    result.stderr.fnmatch_lines(["*::test_no_flavor: promotion needs an online flavor: give train_instance_type='modelarts.vm.cpu.2u'*--modelarts-instance-type*"])
    assert online.jobs() == []


def test_promote_reports_every_incomplete_job_before_any_run(project: pytest.Pytester, online) -> None:
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", inputs="data/full")
        def test_no_output(modelarts_job):
            pass

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", online_output_path="obs://b/out/")
        def test_no_inputs(modelarts_job):
            pass
    """)
    result = project.runpytest_subprocess("--modelarts", "--modelarts-promote", f"--modelarts-instance-type={FLAVOR}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*--modelarts-promote: these jobs cannot go online as configured*",
        "*::test_no_output: Estimator(output_path=None): is required for an online job*",
        "*::test_no_inputs: fit(inputs=None): an online job needs its data*",
    ])
    assert not (project.path / ".modelarts" / "pytest").exists() or not list((project.path / ".modelarts").rglob("runs/*"))


def test_a_promoted_job_that_fails_online_fails_the_run_under_promote_wait(project: pytest.Pytester, online) -> None:
    """The smoke run passes, the online job (its full hyperparameters) fails: with --modelarts-promote-wait the
    run's exit status says so; without waiting, nothing is known yet and the run passes."""
    project.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", hyperparameters={{"exit": 3}},
                               smoke_hyperparameters={{"exit": 0}}, inputs="data/full",
                               online_output_path="obs://{online.bucket}/out/")
        def test_fails_online(modelarts_job):
            pass
    """)
    args = ("--modelarts", "--modelarts-promote", f"--modelarts-instance-type={FLAVOR}")
    result = project.runpytest_subprocess(*args, "--modelarts-promote-wait")
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (job,) = online.jobs()
    job_id = job["metadata"]["id"]
    # the reason, as the service tells it: the last line of the job's log (read through the log preview) and
    # the exit code of its task
    assert job["status"]["task_statuses"][0]["exit_code"] == 3
    reason = "boom: failing on purpose (exit code 3)"
    result.stdout.fnmatch_lines([
        f"*test_fails_online: promotion failed: JobFailedError: the promoted online job 'test_fails_online' "
        f"(job id {job_id}) ended Failed: {reason}; its log: `pytest-modelarts job logs {job_id}`*"
        "--modelarts-promote-force*",
    ])
    # still in the promoted table, with the reason under its row
    result.stdout.fnmatch_lines([f"test_fails_online  job id {job_id}  Failed  *", f"    reason: {reason}"])
    # the ledger remembers the failed job: a rerun says the same (and why) without submitting again
    rerun = project.runpytest_subprocess(*args, "--modelarts-promote-wait")
    rerun.assert_outcomes(passed=1, errors=1)
    rerun.stdout.fnmatch_lines([f"*(job id {job_id}) ended Failed: {reason};*", f"    reason: {reason}"])
    assert online.create_requests == 1
    # without waiting the outcome is unknown: the smoke test's pass stands
    project.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", hyperparameters={{"exit": 3, "epochs": 4}},
                               smoke_hyperparameters={{"exit": 0}}, inputs="data/full",
                               online_output_path="obs://{online.bucket}/out2/")
        def test_fails_online(modelarts_job):
            pass
    """)
    project.runpytest_subprocess(*args).assert_outcomes(passed=1)


def test_code_edited_after_the_smoke_job_started_is_not_promoted(project: pytest.Pytester, online) -> None:
    """The code's digest is taken when the smoke job starts: an edit made during the test is a difference, not
    promoted (both digests were once taken at promotion, in teardown, and could never differ)."""
    project.makepyfile(f"""
        import pathlib
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="PyTorch", inputs="data/full",
                               online_output_path="obs://{online.bucket}/out/")
        def test_edits_its_code(modelarts_job):
            train = pathlib.Path(__file__).parent / "code" / "train.py"
            train.write_text(train.read_text() + "\\n# edited after the smoke run\\n")
    """)
    result = project.runpytest_subprocess("--modelarts", "--modelarts-promote", f"--modelarts-instance-type={FLAVOR}")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*promotion of 'test_edits_its_code' refused: the online job would differ from the smoke run*",
                                 "*code: the code directory changed after the smoke run passed*"])
    assert online.jobs() == []
