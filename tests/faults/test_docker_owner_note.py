"""Docker jobs run while the clean-up of a dead run's leftovers runs beside them: no half-imported Docker SDK."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pytest_modelarts.backends.docker import owners as dk_owners
from tests.docker.conftest import docker_client, python_image  # noqa: F401  (fixtures)

pytest_plugins = ["pytester"]


@pytest.mark.docker
def test_docker_jobs_start_beside_the_clean_up_of_a_dead_owner(pytester: pytest.Pytester, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, python_image: str) -> None:  # noqa: F811
    owners = tmp_path / "owners"
    owners.mkdir()
    (owners / "dead").write_text(f"{socket.gethostname()}/999999999/1")  # an owner that died: clean-up runs at start
    monkeypatch.setenv(dk_owners.OWNERS_VARIABLE, str(owners))
    pytester.mkdir("code")
    (pytester.path / "code" / "hello.py").write_text("print('hello from the image')\n")
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.parametrize("n", [1, 2])
        @pytest.mark.modelarts(code_dir="code", user_image_url={python_image!r}, user_command="python ${{MA_JOB_DIR}}/code/hello.py")
        def test_image(modelarts_job, n):
            assert modelarts_job.succeeded
    """)
    result = pytester.runpytest_subprocess("--modelarts", "-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert "partially initialized" not in output and "ImportError" not in output
    result.assert_outcomes(passed=2)
    assert not (owners / "dead").exists()
