"""The marker and the fixtures: skipped without --modelarts, passing and failing smoke tests, misuse."""

from __future__ import annotations

from pathlib import Path

import pytest

SMOKE = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py",
                       hyperparameters={"epochs": 20, "lr": 0.1}, smoke_hyperparameters={"epochs": 4},
                       inputs="data/full", smoke_inputs="data/small")
def test_smoke(modelarts_job):
    assert modelarts_job.succeeded and modelarts_job.exit_code == 0
    assert modelarts_job.metric("epoch") == [1, 2, 3, 4]
    modelarts_job.assert_decreased("loss").assert_file("model.bin")
    assert modelarts_job.files() == ["model.bin"]
    assert modelarts_job.last_metrics()["acc"] == 0.9
    modelarts_job.assert_log_contains("inputs: a.csv", "--lr=0.1")
"""


def test_marked_tests_are_skipped_without_the_flag_with_a_reason_that_says_how(project: pytest.Pytester) -> None:
    project.makepyfile(SMOKE + "\ndef test_plain():\n    pass\n")
    result = project.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*run pytest with --modelarts (or set modelarts = true in the ini file)*"])
    assert not (project.path / ".modelarts").exists()


def test_a_passing_smoke_test_runs_the_smoke_configuration(project: pytest.Pytester) -> None:
    project.makepyfile(SMOKE)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(passed=1)
    runs = project.path / ".modelarts" / "pytest" / "main" / "runs"
    assert list(runs.iterdir()) == []  # a passing run's sandbox is removed


def test_keep_sandboxes_keeps_passing_runs_too(project: pytest.Pytester) -> None:
    project.makepyfile(SMOKE)
    project.runpytest("--modelarts", "--modelarts-keep-sandboxes").assert_outcomes(passed=1)
    (sandbox,) = (project.path / ".modelarts" / "pytest" / "main" / "runs").iterdir()
    assert sandbox.name.startswith("test_smoke-")
    assert (sandbox / "output" / "model.bin").is_file()


def test_a_failing_job_reports_exit_code_log_tail_sandbox_and_command_not_a_traceback(project: pytest.Pytester) -> None:
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={"exit": 3})
        def test_broken(modelarts_job):
            raise AssertionError("the body must not run when the job failed")
    """)
    result = project.runpytest("--modelarts", "--modelarts-log-lines=3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*boom: failing on purpose (ModelArts job 'test_broken' failed with exit code 3)",
        "  exit code: 3",
        "  command:   *train.py --data_url=* --train_url=* --exit=3*",
        "  sandbox:   *runs/test_broken-* (kept)",
        "--- last 3 log lines ---",
        "step=final acc=0.9",
        "boom: failing on purpose",
    ])
    out = result.stdout.str()
    assert "the body must not run" not in out
    assert "plugin.py" not in out and "Traceback" not in out
    sandbox = next((project.path / ".modelarts" / "pytest" / "main" / "runs").iterdir())
    assert (sandbox / "output" / "model.bin").is_file()  # a failed run keeps its sandbox and outputs


def test_the_estimator_fixture_runs_the_smoke_configuration_and_its_failures_are_reported(project: pytest.Pytester) -> None:
    project.makepyfile("""
        import pytest
        from pytest_modelarts import Estimator, JobPhase

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", hyperparameters={"epochs": 9},
                               smoke_hyperparameters={"epochs": 2}, smoke_inputs="data/small")
        def test_by_hand(estimator, session):
            assert isinstance(estimator, Estimator)
            assert estimator.config.train_instance_type == "local"
            assert estimator.session is session
            job = estimator.fit(wait=True)
            assert job.phase is JobPhase.COMPLETED
            assert "inputs: a.csv" in job.logs() and "--epochs=2" in job.logs()
            estimator.fit(wait=True, job_name="second", inputs=None, ).raise_for_status()
            estimator.with_overrides(hyperparameters=[{"label": "exit", "value": "5"}]).fit(wait=True)
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*boom: failing on purpose (ModelArts job 'test_by_hand' failed with exit code 5)*", "  exit code: 5"])


def test_the_marker_timeout_stops_the_job_and_fails_the_test(project: pytest.Pytester) -> None:
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={"sleep": 60}, timeout=0.5)
        def test_slow(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*job 'test_slow' did not finish within 0.5 s; it was stopped*", "  phase:     Terminated"])


@pytest.mark.parametrize(("marker", "message"), [
    ('code_dir="code", boot_file="train.py", epochs=3',
     "test_misuse.py::test_it: @pytest.mark.modelarts(epochs=3): unknown keyword argument 'epochs'; the parameters are: code_dir, boot_file,*"),
    ('code_dir="code", boot_file="train.py", smoke_hyperparamters={"epochs": 1}',
     "*modelarts(smoke_hyperparamters={'epochs': 1}): unknown keyword argument 'smoke_hyperparamters' (did you mean 'smoke_hyperparameters'?)*"),
    ('"code", "train.py", "extra"',
     "*@pytest.mark.modelarts: modelarts() takes from 0 to 2 positional arguments but 3 were given; the signature is modelarts(code_dir*"),
    ('code_dir="code", boot_file="train.py", timeout=-1', "*@pytest.mark.modelarts(timeout=-1): must be a number of seconds > 0"),
    ('code_dir="code"', "*@pytest.mark.modelarts: Estimator(boot_file=None): is required: give code_dir and boot_file*"),
    ('code_dir="code", boot_file="train.py", hyperparameters=[{"name": "epochs"}]',
     "*@pytest.mark.modelarts(hyperparameters={'name': 'epochs'}): every item must be a dict with exactly the keys*"),
    ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"epochs": [1]}',
     "*@pytest.mark.modelarts(smoke_hyperparameters={'label': 'epochs', 'value': [[]1[]]}): value must be a str*"),
    ('code_dir="code", boot_file="train.py", smoke_inputs="data/nowhere"',
     "*@pytest.mark.modelarts(smoke_inputs='/*): does not exist"),
    ('code_dir="code", boot_file="train.py", run_user="nobody"', "*@pytest.mark.modelarts(run_user='nobody'): must be 'root', a uid*"),
    ('code_dir="code", boot_file="train.py", train_instance_type="local"',
     "*@pytest.mark.modelarts(train_instance_type='local'): is the online flavor*the smoke run is always local"),
    ('code_dir="nowhere", boot_file="train.py"',
     # the resolved path, shortened where it is long (xdist's tmp paths are)
     "*@pytest.mark.modelarts: Estimator(code_dir='/*): must be an existing directory"),
])
def test_a_bad_marker_value_is_a_collection_error_naming_the_test_and_the_keyword(project: pytest.Pytester, marker: str,
                                                                                   message: str) -> None:
    project.makepyfile(test_misuse=f"""
        import pytest

        @pytest.mark.modelarts({marker})
        def test_it(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting test_misuse.py*", message])
    assert "Traceback" not in result.stdout.str()
    assert not (project.path / ".modelarts" / "pytest").exists(), "a job ran"
    # --collect-only reports it too; without --modelarts the test is skipped and its values are not read
    project.runpytest("--modelarts", "--collect-only").stdout.fnmatch_lines([message])
    project.runpytest().assert_outcomes(skipped=1)


def test_a_marker_added_by_a_hook_is_built_after_collection_and_its_bad_value_fails_the_test(project: pytest.Pytester) -> None:
    project.makeconftest("""
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.modelarts(code_dir="code", boot_file="train.py", timeout=float(item.name[-2])))
    """)
    project.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", [0, 1])
        def test_added(modelarts_job, n):
            assert modelarts_job.succeeded
    """)
    result = project.runpytest("--modelarts", "-v")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_added?0? ERROR*", "*test_added?1? PASSED*",
                                 "*test_added?0?: @pytest.mark.modelarts(timeout=0.0): must be a number of seconds > 0"])


def test_the_estimator_fixture_needs_a_marker_with_code(project: pytest.Pytester) -> None:
    project.makepyfile("""
        def test_no_marker(estimator):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_no_marker: the estimator and modelarts_job fixtures need @pytest.mark.modelarts(code_dir=..., boot_file=...)*"])


def test_the_marker_is_registered_with_its_signature(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.modelarts(code_dir=None, boot_file=None, *, environment=None, hyperparameters=None,"
                                 " inputs=None, output_path=None, train_instance_count=1, timeout=None, smoke_hyperparameters=None,"
                                 " smoke_inputs=None, *): a ModelArts smoke test*"])


def test_a_marker_on_the_module_applies_and_paths_are_relative_to_the_test_file(project: pytest.Pytester) -> None:
    sub = project.mkpydir("sub")
    (sub / "code").mkdir()
    (sub / "code" / "train.py").write_text((project.path / "code" / "train.py").read_text())
    (sub / "test_sub.py").write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.modelarts(code_dir='code', boot_file='train.py', smoke_hyperparameters={'epochs': 2})\n"
        "def test_a(modelarts_job):\n"
        "    assert modelarts_job.metric('epoch') == [1, 2]\n"
        "    assert '/sub/' not in modelarts_job.command[1] or 'user-job-dir/code/train.py' in modelarts_job.command[1]\n"
    )
    project.runpytest("--modelarts", "sub").assert_outcomes(passed=1)


def test_an_environment_file_becomes_an_environment_with_its_lock_next_to_it(tmp_path: Path) -> None:
    from pytest_modelarts.pytest_plugin.marker import build_spec

    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "digits.yml").write_text(
        "name: digits\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn==1.5.2\n")
    spec = build_spec({"environment": "envs/digits.yml"}, tmp_path)
    env = spec.environment
    assert env is not None and env.name == "digits"
    assert env.conda.conda_packages == ("python=3.11",) and env.conda.pip_packages == ("scikit-learn==1.5.2",)
    assert env.lock_file == tmp_path / "envs" / "digits.conda-lock.yml"
    (tmp_path / "plain.toml").write_text('pip_packages = ["numpy"]\n')
    env = build_spec({"environment": "plain.toml"}, tmp_path).environment
    assert env.name == "plain" and env.lock_file == tmp_path / "plain.conda-lock.yml"


def test_environment_file_errors_name_the_key(project: pytest.Pytester) -> None:
    (project.path / "env.toml").write_text('name = "x"\npip_pkgs = ["numpy"]\n')
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", environment="env.toml")
        def test_env(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.modelarts(environment='env.toml'): environment file *env.toml: unknown key 'pip_pkgs'; the keys are name, channels, conda_packages, pip_packages*"])


@pytest.mark.parametrize(("smoke", "message"), [
    ('{"epcohs": 3}', "*@pytest.mark.modelarts(smoke_hyperparameters={'epcohs': '3'}): label 'epcohs' is not declared by train.py (it declares --data_url, --epochs, --exit,"
                      " --lr, --sleep, --train_url): with parse_known_args() --epcohs=... would be ignored; did you mean 'epochs'?"),
    ('{"epoch": 3}', "*modelarts(smoke_hyperparameters={'epoch': '3'}): label 'epoch' matches --epochs only by argparse's prefix rule: write 'epochs'"),
])
def test_a_hyperparameter_the_boot_file_never_declares_is_reported_before_running(project: pytest.Pytester, smoke: str,
                                                                                  message: str) -> None:
    """With parse_known_args() (which the platform's extra arguments require) a typo would pass green."""
    project.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={smoke})
        def test_typo(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    assert not list((project.path / ".modelarts").rglob("runs/*")), "a job ran"


def test_declarations_are_read_only_where_they_can_be(tmp_path) -> None:
    from pytest_modelarts.core.bootfile import undeclared

    script = tmp_path / "dynamic.py"
    script.write_text("import argparse\np = argparse.ArgumentParser()\nfor n in ['a', 'b']:\n    p.add_argument('--' + n)\n")
    assert undeclared(script, ["anything"]) == []  # a name it cannot read: it says nothing rather than something wrong
    script.write_text("import sys\nprint(sys.argv)\n")
    assert undeclared(script, ["anything"]) == []  # no argparse at all
    script.write_text("import argparse\np = argparse.ArgumentParser(allow_abbrev=False)\np.add_argument('--learning-rate')\n")
    assert undeclared(script, ["learning_rate", "learning-rate"]) == []  # both spellings reach the dest
    assert undeclared(script, ["learning"])[0].startswith("label 'learning' is not declared")  # no prefix rule here


def test_a_marked_test_that_requests_no_job_fixture_is_warned(project: pytest.Pytester) -> None:
    """A marker describing a job on a test that never asks for it would pass with no job run."""
    project.makepyfile("""
        import pytest

        smoke = pytest.mark.modelarts(code_dir="code", boot_file="train.py", inputs="data/small")

        @smoke
        def test_forgot_the_fixture():
            pass

        @smoke
        def test_through_an_alias(estimator):
            estimator.fit(inputs="data/small")

        @pytest.mark.modelarts
        def test_a_gate_only(modelarts_session):
            pass
    """)
    result = project.runpytest("--modelarts", "-W", "always::pytest.PytestWarning")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*test_forgot_the_fixture: @pytest.mark.modelarts describes a job, but the test requests neither the "
        "modelarts_job nor the modelarts_estimator fixture*add the modelarts_job argument*",
    ])
    out = result.stdout.str()
    assert "test_through_an_alias: @pytest.mark" not in out and "test_a_gate_only: @pytest.mark" not in out
    # without --modelarts the tests are skipped, and nothing is warned
    skipped = project.runpytest()
    skipped.assert_outcomes(skipped=3)
    assert "describes a job" not in skipped.stdout.str()


def test_the_configuration_built_at_collection_is_the_one_that_runs(project: pytest.Pytester) -> None:
    """Marker and job-file values become a job configuration once, at collection; the job that starts is that very
    object (a second build would be an equal but different one), for the job fixture, the estimator and a job file."""
    project.makeconftest("""
        from pytest_modelarts.pytest_plugin.stash import SPEC_KEY

        built, current, seen = {}, {}, []

        def pytest_collection_finish(session):
            for item in session.items:
                local = item.stash[SPEC_KEY].local
                built[item.nodeid] = local
                print(f"built {item.name}: {dict(local.hyperparameters)} inputs={local.inputs.name} job={local.job_name}")

        def pytest_runtest_setup(item):
            current["config"] = built[item.nodeid]

        def pytest_modelarts_modify_job(job_config, modelarts_session):
            seen.append("collected" if job_config is current["config"] else "rebuilt")

        def pytest_terminal_summary(terminalreporter):
            terminalreporter.write_line("started: " + " ".join(seen))
    """)
    project.makepyfile("""
        import pytest

        smoke = pytest.mark.modelarts(code_dir="code", boot_file="train.py", hyperparameters={"epochs": 20, "lr": 0.1},
                                      smoke_hyperparameters={"epochs": 2}, inputs="data/full", smoke_inputs="data/small")

        @smoke
        def test_job(modelarts_job):
            assert modelarts_job.metric("epoch") == [1, 2]

        @smoke
        def test_estimator(estimator):
            estimator.fit(wait=True)
            estimator.fit(wait=True, job_name="renamed")  # fit's arguments make a new configuration, as in the SDK
    """)
    (project.path / "smoke.modelarts.toml").write_text(
        '[[job]]\nname = "from-file"\ncode_dir = "code"\nboot_file = "train.py"\ninputs = "data/full"\n'
        'smoke_hyperparameters = { epochs = 1 }\n')
    result = project.runpytest("--modelarts", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "built from-file: {'epochs': '1'} inputs=full job=from-file",
        "built test_job: {'epochs': '2', 'lr': '0.1'} inputs=small job=test_job",
        "built test_estimator: {'epochs': '2', 'lr': '0.1'} inputs=small job=test_estimator",
        "started: collected collected collected rebuilt",
    ])
