"""A requirements file in the code directory is installed as the platform does it (docs/contract.md).

"place the WHL package in the code directory, create a file named pip-requirements.txt, and specify the name of
the WHL package in the file" (the troubleshooting page on "No module named"): names resolve in the code dir, and
the install sees the contract's environment only, never the caller's cloud keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session


def make_wheel(folder: Path, name: str, module_source: str) -> Path:
    """A pure-Python wheel made by hand (no network, no build tools): one module and its dist-info."""
    version = "1.0"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}.py": module_source.encode(),
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.fixture
def session(tmp_path: Path) -> Session:
    return Session(local_root=tmp_path / "root", stream_logs=False)


def test_a_wheel_named_by_its_file_name_in_the_code_dir_is_installed(session: Session, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    wheel = make_wheel(code, "tinylib", "ANSWER = 42\n")
    (code / "pip-requirements.txt").write_text(wheel.name + "\n")  # a bare file name, as the docs show
    (code / "train.py").write_text("import tinylib\nprint('answer', tinylib.ANSWER)\n")
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED and "answer 42" in job.logs()


BACKEND = '''
import json, os, zipfile, base64, hashlib

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "recorder-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        meta = b"Metadata-Version: 2.1\\nName: recorder\\nVersion: 1.0\\n"
        wheel = b"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        body = ("RECORDED = True\\nSEEN = " + json.dumps(sorted(os.environ)) + "\\n").encode()
        lines = []
        for path, data in (("recorder.py", body), ("recorder-1.0.dist-info/METADATA", meta),
                           ("recorder-1.0.dist-info/WHEEL", wheel)):
            zf.writestr(path, data)
            d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{path},sha256={d},{len(data)}")
        lines.append("recorder-1.0.dist-info/RECORD,,")
        zf.writestr("recorder-1.0.dist-info/RECORD", "\\n".join(lines) + "\\n")
    return name
'''


def test_the_install_runs_from_the_code_dir_and_sees_no_cloud_keys(session: Session, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A package built from source during the install records the environment it got (in the module it builds):
    no secrets in it."""
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AK-that-must-not-leak")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "SK-that-must-not-leak")
    monkeypatch.setenv("SOME_TOKEN", "nor-this")
    code = tmp_path / "code"
    project = code / "recorder"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "recorder"\nversion = "1.0"\n')
    (project / "backend.py").write_text(BACKEND)
    (code / "requirements.txt").write_text("./recorder\n")  # relative to the code directory
    (code / "train.py").write_text("import json, recorder\nprint('recorded', recorder.RECORDED)\n"
                                   "print('SEEN ' + json.dumps(recorder.SEEN))\n")
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1).fit(wait=True)
    assert "recorded True" in job.logs()
    seen = json.loads(next(line for line in job.logs().splitlines() if line.startswith("SEEN "))[5:])
    assert seen, "the build recorded nothing"
    assert not [name for name in seen if name.startswith("HUAWEICLOUD") or name == "SOME_TOKEN"], seen
