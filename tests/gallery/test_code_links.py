"""Links and special files in a code directory or inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, ParameterError
from pytest_modelarts.backends.online.uploads import upload_tree
from pytest_modelarts.core.codetree import CodeTree


def estimator(session, code: Path, **kw) -> Estimator:
    return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                     train_instance_count=1, **kw)


def test_a_link_that_leaves_the_code_directory_is_refused_before_running(sdk_session, code_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not code\n")
    (code_dir / "conf.txt").symlink_to(secret)
    with pytest.raises(ParameterError, match=r"code_dir=.*'conf.txt' is a symlink to .*secret.txt.*outside the directory"):
        estimator(sdk_session, code_dir)
    assert not (tmp_path / "runs-root").exists()


def test_a_directory_link_that_leaves_the_code_directory_is_refused(sdk_session, code_dir, tmp_path):
    (tmp_path / "shared").mkdir()
    (code_dir / "lib").symlink_to(tmp_path / "shared", target_is_directory=True)
    with pytest.raises(ParameterError, match="'lib' is a symlink"):
        estimator(sdk_session, code_dir)


def test_a_dangling_link_is_refused(sdk_session, code_dir):
    (code_dir / "gone.py").symlink_to(code_dir / "missing.py")
    with pytest.raises(ParameterError, match="'gone.py' is a symlink to .* which does not exist"):
        estimator(sdk_session, code_dir)


def test_a_fifo_in_the_code_directory_is_refused(sdk_session, code_dir):
    os.mkfifo(code_dir / "pipe")
    with pytest.raises(ParameterError, match="'pipe' is a FIFO"):
        estimator(sdk_session, code_dir)


@pytest.mark.parametrize("what", ["fifo", "dev-zero", "fifo-in-dir"])
def test_special_files_as_inputs_are_refused(sdk_session, code_dir, tmp_path, what):
    if what == "dev-zero":
        inputs = "/dev/zero"
    elif what == "fifo":
        inputs = str(tmp_path / "pipe")
        os.mkfifo(inputs)
    else:
        (tmp_path / "data").mkdir()
        os.mkfifo(tmp_path / "data" / "pipe")
        inputs = str(tmp_path / "data")
    with pytest.raises(ParameterError, match=r"fit\(inputs=.*is (a FIFO|a device)"):
        estimator(sdk_session, code_dir).fit(inputs=inputs, wait=False)
    assert not (tmp_path / "runs-root").exists()


def test_links_inside_the_code_directory_run_locally_and_upload_their_content(sdk_session, code_dir):
    (code_dir / "pkg").mkdir()
    (code_dir / "pkg" / "data.txt").write_text("inside\n")
    (code_dir / "alias.txt").symlink_to("pkg/data.txt")
    (code_dir / "pkg_link").symlink_to("pkg", target_is_directory=True)
    (code_dir / "train.py").write_text("import pathlib\nhere = pathlib.Path(__file__).parent\n"
                                       "print((here / 'pkg_link/data.txt').read_text().strip(), (here / 'alias.txt').read_text().strip())\n")
    job = estimator(sdk_session, code_dir).fit(wait=True, job_name="links")
    assert job.phase.value == "Completed", job.logs()
    assert "inside inside" in job.logs()

    uploaded: dict[str, str] = {}

    class FakeClients:
        def obs_call(self, what, call, ok_statuses=()):
            return call()

        class obs:  # noqa: N801 - the OBS client's shape
            @staticmethod
            def getObjectMetadata(bucket, key):
                return type("R", (), {"status": 404})()

            @staticmethod
            def putFile(bucket, key, path):
                uploaded[key.split("/", 3)[3]] = Path(path).read_text()

            @staticmethod
            def putContent(bucket, key, content):
                return None

    upload_tree(FakeClients(), CodeTree(code_dir), "b", "code")  # type: ignore[arg-type]
    name = code_dir.name
    assert uploaded[f"{name}/alias.txt"] == "inside\n"
    assert uploaded[f"{name}/pkg_link/data.txt"] == "inside\n"  # a directory link is no longer dropped online
