"""Job files (*.modelarts.toml / .yaml): collected as smoke tests under --modelarts; bad files name the key."""

from __future__ import annotations

import pytest

GOOD = """
[defaults]
code_dir = "code"
boot_file = "train.py"

[[job]]
name = "short"
hyperparameters = { epochs = 10 }
smoke_hyperparameters = { epochs = 2 }
smoke_inputs = "data/small"

[job.expect]
files = ["model.bin"]
decreasing = ["loss"]
log_contains = ["inputs: a.csv"]
metrics = { acc = { min = 0.5 } }

[[job]]
name = "fails-as-expected"
smoke_hyperparameters = { exit = 4 }
expect = { exit_code = 4 }
"""


def test_a_job_file_is_collected_only_with_the_flag_and_its_jobs_run(project: pytest.Pytester) -> None:
    (project.path / "smoke.modelarts.toml").write_text(GOOD)
    project.runpytest().assert_outcomes()
    result = project.runpytest("--modelarts", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["smoke.modelarts.toml::short PASSED*", "smoke.modelarts.toml::fails-as-expected PASSED*"])
    project.runpytest("--modelarts", "-m", "modelarts").assert_outcomes(passed=2)


def test_yaml_job_files_work_the_same(project: pytest.Pytester) -> None:
    (project.path / "smoke.modelarts.yaml").write_text(
        "defaults: {code_dir: code, boot_file: train.py}\n"
        "job:\n"
        "  - name: yaml-job\n"
        "    smoke_hyperparameters: {epochs: 2}\n"
        "    expect: {decreasing: [loss]}\n")
    project.runpytest("--modelarts").assert_outcomes(passed=1)


def test_a_failing_job_file_job_reports_like_a_marked_test(project: pytest.Pytester) -> None:
    (project.path / "smoke.modelarts.toml").write_text(
        '[[job]]\nname = "broken"\ncode_dir = "code"\nboot_file = "train.py"\nsmoke_hyperparameters = { exit = 7 }\n'
        '[[job]]\nname = "wrong-expectation"\ncode_dir = "code"\nboot_file = "train.py"\nexpect = { files = ["missing.pkl"] }\n')
    result = project.runpytest("--modelarts")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*boom: failing on purpose (ModelArts job 'broken' failed with exit code 7)",
        "  exit code: 7",
        "*boom: failing on purpose",
    ])
    result.stdout.fnmatch_lines(["smoke.modelarts.toml::wrong-expectation: missing in train_url *: missing.pkl; found: model.bin"])


@pytest.mark.parametrize(("content", "message"), [
    ("[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\nepochs = 3\n",
     "*bad.modelarts.toml: job 'x': key 'epochs': unknown; the keys are name, expect, code_dir,*"),
    ("[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\nsmoke_hyperparameter = {}\n",
     "*bad.modelarts.toml: job 'x': key 'smoke_hyperparameter': unknown (did you mean 'smoke_hyperparameters'?)*"),
    ("[[job]]\nname = 'x'\ncode_dir = 'nowhere'\nboot_file = 'train.py'\n",
     "*bad.modelarts.toml: job 'x': key 'code_dir': Estimator(code_dir='*nowhere'): must be an existing directory"),
    ("[[job]]\nname = 'x'\n", "*bad.modelarts.toml: job 'x': key 'code_dir': is required: give code_dir and boot_file*"),
    ("[[job]]\ncode_dir = 'code'\n", "*bad.modelarts.toml: job[[]0[]]: key 'name': is required*"),
    ("[jobs]\n", "*bad.modelarts.toml: key 'jobs': unknown top-level key; the keys are defaults, job*"),
    ("[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\ntimeout = 'soon'\n",
     "*bad.modelarts.toml: job 'x': key 'timeout': modelarts(timeout='soon'): must be a number of seconds > 0"),
    ("[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\nsmoke_inputs = 'data/none'\n",
     "*bad.modelarts.toml: job 'x': key 'smoke_inputs': modelarts(smoke_inputs='/*): does not exist"),
    ("[defaults]\ncode_dir = 'code'\nboot_file = 'train.py'\n[[job]]\nname = 'x'\nsmoke_hyperparameters = { epcohs = 1 }\n",
     "*bad.modelarts.toml: job 'x': key 'smoke_hyperparameters': modelarts(smoke_hyperparameters={'epcohs': '1'}): label 'epcohs' is not declared*"),
    ("[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\nexpect = { decrease = ['loss'] }\n",
     "*bad.modelarts.toml: job 'x': key 'expect.decrease': unknown; the keys of expect are files, decreasing,*"),
    ("[[job]\nname = 'x'\n", "*bad.modelarts.toml: invalid TOML: *line 1*"),
])
def test_bad_job_files_are_collection_errors_naming_file_key_and_problem(project: pytest.Pytester, content: str, message: str) -> None:
    (project.path / "bad.modelarts.toml").write_text(content)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting bad.modelarts.toml*", message])
    assert "Traceback" not in result.stdout.str()
