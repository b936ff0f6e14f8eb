"""The cause and its fix on the first screen of a failure: for each usual way a boot file breaks, the first 15 lines
of the test's failure (or error) section name what went wrong and what to change, and the short summary line starts
with the cause."""

from __future__ import annotations

import pytest

BOOT = """\
import argparse, json, os, sys
p = argparse.ArgumentParser()
p.add_argument('--data_url'); p.add_argument('--train_url'); p.add_argument('--epochs', type=int, default=1)
p.add_argument('--case', default='ok')
a, _ = p.parse_known_args()
if a.case == 'missing':
    import pandas_that_is_not_there
if a.case == 'relative':
    json.load(open('config.json'))
if a.case == 'cwd':
    open('model.pkl', 'w').write('weights')
if a.case == 'deep':
    from helpers.labels import load
    load()
if a.case == 'wrong_file':
    open(os.path.join(a.data_url, 'train.csv')).read()
if a.case == 'host_path':
    open('/nonexistent-home/me/data/train.csv').read()
if a.case == 'memory':
    buffers = bytearray(10 ** 15)  # a petabyte: more than any flavor has
if a.case == 'hang':
    import time
    def wait_for_the_data_loader():
        time.sleep(120)
    print('loading', flush=True)
    wait_for_the_data_loader()
print('ok')
"""

LABELS = """\
def lookup(name):
    return {"cat": 0}[name]


def load():
    try:
        lookup("dog")
    except KeyError as exc:
        raise ValueError("could not read the label map") from exc
"""

STRICT = """\
import argparse
p = argparse.ArgumentParser()
p.add_argument('--data_url'); p.add_argument('--train_url')
p.parse_args()
"""


@pytest.fixture
def breaks(pytester: pytest.Pytester) -> pytest.Pytester:
    for folder in ("code/helpers", "data/small", "badreq"):
        (pytester.path / folder).mkdir(parents=True)
    (pytester.path / "code" / "train.py").write_text(BOOT)
    (pytester.path / "code" / "config.json").write_text("{}")
    (pytester.path / "code" / "helpers" / "__init__.py").write_text("")
    (pytester.path / "code" / "helpers" / "labels.py").write_text(LABELS)
    (pytester.path / "code" / "strict.py").write_text(STRICT)
    (pytester.path / "data" / "small" / "a.csv").write_text("x\n1\n")
    (pytester.path / "badreq" / "train.py").write_text("print('never runs')\n")
    (pytester.path / "badreq" / "requirements.txt").write_text("numpy=>1.0\n")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester


def first_screen(result: pytest.RunResult, name: str) -> str:
    """The first 15 lines of the failure or error section whose title names ``name``."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if line.startswith("_") and f" {name} " in line or
                 line.startswith("_") and f"{name}" in line and "ERROR" in line)
    return "\n".join(lines[start + 1:start + 16])


def run_case(breaks: pytest.Pytester, marker: str, body: str = "pass") -> pytest.RunResult:
    breaks.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts({marker})
        def test_case(modelarts_job):
            {body}
        """)
    return breaks.runpytest("--modelarts", "-rfE")


# (marker arguments, the test's body, what the cause says, what the fix says: all in the first 15 lines)
CASES = {
    "missing package": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "missing"}', "pass",
                        ["ModuleNotFoundError: No module named 'pandas_that_is_not_there'"],
                        ["fix: ", "pip_packages", "pip-requirements.txt", "at:  code/train.py:7"]),
    "relative read": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "relative"}', "pass",
                      ["FileNotFoundError", "'config.json'"],
                      ["working directory is MA_JOB_DIR", "code/config.json exists", "os.path.dirname(os.path.abspath(__file__))"]),
    "outputs in the working directory": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "cwd"}',
                                         'modelarts_job.assert_file("model.pkl")',
                                         ["model.pkl was written to", "working directory"],
                                         ["fix: write it to os.path.join(args.train_url, 'model.pkl')"]),
    "deep exception": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "deep"}', "pass",
                       ["ValueError: could not read the label map"],
                       ["at:  code/helpers/labels.py:9 in load (in the job: /home/ma-user/modelarts/user-job-dir/code/helpers/labels.py)"]),
    "wrong data path": ('code_dir="code", boot_file="train.py", smoke_inputs="data/small", smoke_hyperparameters={"case": "wrong_file"}',
                        "pass", ["FileNotFoundError", "/home/ma-user/modelarts/inputs/data_url_0/train.csv"],
                        ["data/small/train.csv on this machine, which does not exist", "check the inputs"]),
    "mistyped data directory": ('code_dir="code", boot_file="train.py", smoke_inputs="data/smal"', "pass",
                                ["smoke_inputs=", "data/smal'): does not exist"], ["did you mean '", "data/small'?"]),
    "a path of this machine": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "host_path"}', "pass",
                               ["FileNotFoundError", "/nonexistent-home/me/data/train.csv"],
                               ["is not a path of the job's container", "read the inputs from --data_url"]),
    # a v1 job: the old platform appends --num_gpus (a v2 job gets no argument a strict parser would refuse)
    "strict parser": ('code_dir="code", boot_file="strict.py", contract="v1"', "pass",
                      ["error: unrecognized arguments:", "--num_gpus"],
                      ["ModelArts passes --num_gpus to this boot file", "parse_known_args()"]),
    "hang": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "hang"}, timeout=3', "pass",
             ["did not finish within 3.0 s"],
             ["raise the marker's timeout=", "at:  code/train.py:24 in wait_for_the_data_loader"]),
    "memory": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"case": "memory"}', "pass",
               ["MemoryError"], ["fix: the job ran out of memory", "at:  code/train.py:20 in <module>"]),
    "bad requirements line": ('code_dir="badreq", boot_file="train.py"', "pass",
                              ["no such comparison operator \"=>\"", "requirements.txt in the code directory could not be installed"],
                              ["the installer's last lines", "numpy=>1.0"]),
    "typo'd label": ('code_dir="code", boot_file="train.py", smoke_hyperparameters={"epohcs": 3}', "pass",
                     ["label 'epohcs' is not declared by train.py"], ["did you mean 'epochs'?"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_cause_and_the_fix_are_in_the_first_15_lines(breaks: pytest.Pytester, case: str) -> None:
    marker, body, causes, fixes = CASES[case]
    result = run_case(breaks, marker, body)
    assert result.ret != 0
    screen = first_screen(result, "test_case") if "ERROR collecting" not in result.stdout.str() else first_screen(result, "collecting")
    for text in causes + fixes:
        assert text in screen, f"{text!r} is not in the first 15 lines:\n{screen}"


@pytest.mark.parametrize("case", ["missing package", "relative read", "deep exception", "strict parser"])
def test_the_short_summary_line_starts_with_the_cause(breaks: pytest.Pytester, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")  # pytest prints the summary's message whole on CI (else trimmed to the terminal)
    marker, body, causes, _ = CASES[case]
    result = run_case(breaks, marker, body)
    (line,) = [line for line in result.stdout.lines if line.startswith("FAILED ")]
    head = line.split(" - ", 1)[1]
    assert not head.startswith("ModelArts"), line
    assert causes[0] in head[:80], line


def test_a_requirements_install_is_a_step_of_its_own(breaks: pytest.Pytester) -> None:
    """Announced when it starts (an install may take minutes before the job), ended with its time."""
    result = run_case(breaks, 'code_dir="badreq", boot_file="train.py"')
    result.stdout.fnmatch_lines(["modelarts: installing requirements.txt from the code directory of job test_case ...",
                                 "modelarts: installing requirements.txt from the code directory of job test_case failed after *s"])


def test_an_old_version_job_is_told_its_own_working_directory(breaks: pytest.Pytester) -> None:
    result = run_case(breaks, 'code_dir="code", boot_file="train.py", contract="v1", smoke_hyperparameters={"case": "relative"}')
    screen = first_screen(result, "test_case")
    assert "a job's working directory is /home/work/user-job-dir, not the code directory" in screen, screen
