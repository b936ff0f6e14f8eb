"""Custom images are declared where jobs are declared: the marker and job files take user_image_url and the container's
knobs."""

from __future__ import annotations

import pytest


def test_a_marker_with_user_image_url_runs_on_docker(pytester: pytest.Pytester, python_image: str) -> None:
    pytester.mkdir("code")
    (pytester.path / "code" / "hello.py").write_text(
        "import os, sys\nprint('in the image as', os.getuid(), 'args', ' '.join(sys.argv[1:]))\n")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", user_image_url={python_image!r}, user_command="python ${{MA_JOB_DIR}}/code/hello.py",
                               hyperparameters={{"lr": "0.1"}}, memory="256m", run_user="1102")
        def test_image(modelarts_job):
            assert modelarts_job.job.backend == "docker"
            assert "in the image as 1102 args" in modelarts_job.log and "--lr=0.1" in modelarts_job.log
    """)
    (pytester.path / "jobs.modelarts.toml").write_text(
        f'[[job]]\nname = "from-a-job-file"\ncode_dir = "code"\nuser_image_url = "{python_image}"\n'
        'user_command = "python ${MA_JOB_DIR}/code/hello.py"\n[job.expect]\nlog_contains = ["in the image as 1000"]\n')
    result = pytester.runpytest("--modelarts", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_bad_container_knobs_in_a_marker_name_the_argument(pytester: pytest.Pytester, python_image: str) -> None:
    pytester.mkdir("code")
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.modelarts(code_dir="code", user_image_url={python_image!r}, user_command="python x.py", memory="lots")
        def test_image(modelarts_job):
            pass
    """)
    result = pytester.runpytest("--modelarts")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.modelarts: ContainerOptions(memory='lots'): must be a size such as '512m' or '2g'"])
