"""Sandboxes of failed jobs are kept up to a limit per worker, the oldest removed."""

from __future__ import annotations

import pytest

FAILING = """
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={{"exit": 3}})
def test_{name}(modelarts_job):
    pass
"""


def test_keep_failed_keeps_the_newest_failed_sandboxes(project: pytest.Pytester) -> None:
    for name in ("a", "b", "c"):  # pytest runs the files in this order
        project.makepyfile(**{f"test_{name}": FAILING.format(name=name)})
    result = project.runpytest("--modelarts", "--modelarts-keep-failed=2")
    result.assert_outcomes(failed=3)
    runs = project.path / ".modelarts" / "pytest" / "main" / "runs"
    kept = sorted(p.name.split("-")[0] for p in runs.iterdir())
    assert kept == ["test_b", "test_c"]  # the oldest, test_a's, was removed when test_c's was kept
    assert all((p / ".modelarts-failed").is_file() for p in runs.iterdir())
    # the summary names only the sandboxes still there
    summary = result.stdout.str().split("ModelArts jobs", 1)[1]
    kept_lines = [line for line in summary.splitlines() if "sandbox kept:" in line]
    assert len(kept_lines) == 2 and not any("test_a-" in line for line in kept_lines)

    # a second session counts the sandboxes the first one kept: the default limit is 20, 0 keeps none
    project.runpytest("--modelarts", "--modelarts-keep-failed=0", "test_a.py").assert_outcomes(failed=1)
    assert list(runs.iterdir()) == []


def test_keep_failed_counts_passing_sandboxes_kept_on_request_never(project: pytest.Pytester) -> None:
    project.makepyfile(test_ok="""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py")
        def test_ok(modelarts_job):
            pass
    """, test_bad=FAILING.format(name="bad"))
    project.runpytest("--modelarts", "--modelarts-keep-sandboxes", "--modelarts-keep-failed=0").assert_outcomes(
        passed=1, failed=1)
    (kept,) = (project.path / ".modelarts" / "pytest" / "main" / "runs").iterdir()
    assert kept.name.startswith("test_ok-")


def test_keep_failed_takes_an_int_from_the_ini_file_too(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nmodelarts_keep_failed = -1\n")
    project.makepyfile(FAILING.format(name="x"))
    result = project.runpytest("--modelarts")
    result.stderr.fnmatch_lines(["*ini modelarts_keep_failed: must be an int >= 0*"])
