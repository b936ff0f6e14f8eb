"""A smoke test whose environment or code directory asks for the PyPI ``moxing`` is an error of that test, saying why,
before any job runs (``pytester``, as a user's run)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TRAIN = "import moxing as mox\nprint('never run')\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkdir("code")
    (pytester.path / "code" / "train.py").write_text(TRAIN)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n")
    return pytester


def test_an_environment_file_naming_moxing_errors_the_smoke_test(project: pytest.Pytester) -> None:
    (project.path / "env.toml").write_text('name = "seed"\nconda_packages = ["python=3.6"]\npip_packages = ["tensorflow==1.13.1", "moxing"]\n')
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", environment="env.toml")
        def test_env(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*environment file *env.toml*'moxing': the PyPI package named 'moxing' is an unrelated project*"])
    assert not list(project.path.glob("*.conda-lock.yml"))


def test_a_requirements_line_moxing_fails_the_smoke_test_before_it_runs(project: pytest.Pytester) -> None:
    (project.path / "code" / "requirements.txt").write_text("moxing\n")
    project.makepyfile("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py")
        def test_code(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*requirements.txt, line 1 ('moxing'): the PyPI package named 'moxing' is an unrelated project*"])
    result.stdout.no_fnmatch_line("*never run*")
