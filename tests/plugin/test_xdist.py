"""``pytest --modelarts -n 4``: per-worker sandboxes, the complete summary and junitxml on the controller."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("xdist")


def test_xdist_runs_in_separate_sandboxes_and_the_controller_reports_every_job(project: pytest.Pytester) -> None:
    project.makepyfile("""
        import os
        import pytest

        @pytest.mark.parametrize("n", range(6))
        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", smoke_hyperparameters={"epochs": 2})
        def test_job(modelarts_job, n):
            assert str(modelarts_job.sandbox).split(os.sep)[-3] == os.environ["PYTEST_XDIST_WORKER"]
    """)
    (project.path / "more.modelarts.toml").write_text(
        '[defaults]\ncode_dir = "code"\nboot_file = "train.py"\n'
        '[[job]]\nname = "toml-ok"\n[[job]]\nname = "toml-bad"\nsmoke_hyperparameters = { exit = 2 }\n')
    result = project.runpytest_subprocess("--modelarts", "-n", "4", "--junitxml=report.xml", "--modelarts-keep-sandboxes")
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(["*= ModelArts jobs =*"])
    summary = result.stdout.str().split("ModelArts jobs", 1)[1]
    for n in range(6):
        assert f"test_job[{n}]" in summary
    assert "toml-ok " in summary and "toml-bad " in summary and "Failed" in summary
    workers = {p.name for p in (project.path / ".modelarts" / "pytest").iterdir()}
    assert workers <= {"gw0", "gw1", "gw2", "gw3"} and len(workers) >= 2
    sandboxes = [s for w in workers for s in (project.path / ".modelarts" / "pytest" / w / "runs").iterdir()]
    assert len(sandboxes) == 8 and len({s.name for s in sandboxes}) == 8
    cases = list(ET.parse(project.path / "report.xml").getroot().iter("testcase"))
    assert sum(1 for c in cases for p in c.iter("property") if p.get("name") == "modelarts_job") == 8
