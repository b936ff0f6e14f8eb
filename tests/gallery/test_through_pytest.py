"""Bad markers and job files run through pytest itself, as a user meets them: each is a collection error (or the
test's error) naming the test or file and the keyword, and no job runs. The galleries beside this one call the
marker's and the job file's builders directly; these cases go through collection and the session's setup."""

from __future__ import annotations

import pytest

from tests.plugin.conftest import project as project  # noqa: F401  (fixture)

MARKERS = {
    "timeout-huge": ("timeout=10**20", "timeout"),
    "timeout-nan": ("timeout=float('nan')", "timeout"),
    "obs-root-url": ("obs_root='obs://x'", "obs_root"),
    "obs-root-nul": ("obs_root='a\\0b'", "obs_root"),
    "output-path-nul": ("output_path='out\\0put'", "output_path"),
    "output-path-proc": ("output_path='/proc/self/out'", "output_path"),
    "inputs-loop": ("inputs='loop-a'", "inputs"),
    "hp-over-arg-max": ("hyperparameters={f'p{i}': 'v' * 100_000 for i in range(40)}", "hyperparameters"),
    "env-two-python-pins": ("environment={'conda_packages': ['python=3.11', 'python=3.10']}", "conda_packages"),
    "env-pip-option": ("environment={'pip_packages': ['-r /etc/passwd']}", "pip_packages"),
}


@pytest.mark.parametrize("name", sorted(MARKERS))
def test_a_bad_marker_is_a_collection_error_naming_the_keyword(project: pytest.Pytester, name: str) -> None:  # noqa: F811
    keywords, needle = MARKERS[name]
    (project.path / "loop-a").symlink_to(project.path / "loop-b")
    (project.path / "loop-b").symlink_to(project.path / "loop-a")
    project.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", {keywords})
        def test_smoke(modelarts_job):
            pass
    """)
    result = project.runpytest("--modelarts")
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) + outcomes.get("error", 0) == 1 and not outcomes.get("passed"), result.stdout.str()
    text = result.stdout.str()
    assert needle in text and "test_smoke" in text, text
    assert "Traceback (most recent call last)" not in text, text
    assert not list((project.path / ".modelarts").rglob("runs/*")), "a job ran"


JOBS = {
    "timeout-huge": ("timeout = 1e300", "timeout"),
    "obs-root-url": ("obs_root = 'obs://x'", "obs_root"),
    "output-path-proc": ("output_path = '/proc/self/out'", "output_path"),
}


@pytest.mark.parametrize("name", sorted(JOBS))
def test_a_bad_job_file_is_a_collection_error_naming_file_and_key(project: pytest.Pytester, name: str) -> None:  # noqa: F811
    line, needle = JOBS[name]
    (project.path / "smoke.modelarts.toml").write_text(
        f"[[job]]\nname = 'x'\ncode_dir = 'code'\nboot_file = 'train.py'\n{line}\n")
    result = project.runpytest("--modelarts")
    text = result.stdout.str()
    assert "ERROR collecting smoke.modelarts.toml" in text and needle in text, text
    assert "Traceback (most recent call last)" not in text, text
    assert not list((project.path / ".modelarts").rglob("runs/*")), "a job ran"
