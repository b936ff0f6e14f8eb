"""A package of the code directory's requirements file runs its own code while it is built (an sdist's build): that
code runs in the job's installer node, as on the platform in the job's container, never on the host as the caller.

The sdist here has an in-tree build backend (no download of build tools): it tries to write host files, to read the
caller's environment through /proc, and records what came of each into the module it builds; the job prints it.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, Session

BACKEND = '''
import base64, hashlib, json, os, zipfile

TARGETS = json.loads(%(targets)r)
PID = %(pid)d


def attempt(action):
    try:
        return "done: " + str(action())
    except OSError as exc:
        return type(exc).__name__


def write(path):
    with open(path, "w") as fh:
        fh.write("planted by a package's build")
    return path


def read(path):
    with open(path, "rb") as fh:
        return fh.read().decode(errors="replace")


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    evidence = {"write": {path: attempt(lambda path=path: write(path)) for path in TARGETS},
                "caller_environ": attempt(lambda: "AK-of-the-caller" in read(f"/proc/{PID}/environ")),
                "own_environ": sorted(os.environ), "processes": sorted(p for p in os.listdir("/proc") if p.isdigit())}
    name = "evil-1.0-py3-none-any.whl"
    files = {"evil.py": ("EVIDENCE = " + repr(json.dumps(evidence)) + "\\n").encode(),
             "evil-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: evil\\nVersion: 1.0\\n",
             "evil-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    lines = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{path},sha256={digest},{len(data)}")
        lines.append("evil-1.0.dist-info/RECORD,,")
        zf.writestr("evil-1.0.dist-info/RECORD", "\\n".join(lines) + "\\n")
    return name
'''


def malicious_sdist(folder: Path, targets: list[str]) -> Path:
    """``evil-1.0.tar.gz``: an sdist whose build runs the code above."""
    members = {
        "evil-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
        "evil-1.0/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
                                   '[project]\nname = "evil"\nversion = "1.0"\n',
        "evil-1.0/backend.py": BACKEND % {"targets": json.dumps(targets), "pid": os.getpid()},
    }
    sdist = folder / "evil-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sdist


def test_a_packages_build_cannot_write_the_host_nor_read_the_callers_environment(
        outside_home_and_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AK-of-the-caller")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "SK-of-the-caller")
    code = tmp_path / "code"
    code.mkdir()
    targets = [str(outside_home_and_tmp / "planted"), str(code / "planted"), str(Path.home() / "planted-by-a-build")]
    sdist = malicious_sdist(code, targets)
    (code / "requirements.txt").write_text(f"./{sdist.name}\n")
    (code / "train.py").write_text("import evil\nprint('EVIDENCE ' + evil.EVIDENCE)\n")
    session = Session(local_root=outside_home_and_tmp / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
    job = Estimator(modelarts_session=session, code_dir=code, boot_file="train.py", train_instance_type="local",
                    train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    evidence = json.loads(next(line for line in job.logs().splitlines() if line.startswith("EVIDENCE "))[9:])
    for target in targets:
        assert not Path(target).exists(), f"a package's build wrote {target} on the host"
        assert not evidence["write"][target].startswith("done"), evidence["write"]
    assert evidence["caller_environ"] == "FileNotFoundError"  # no process of the host in its /proc
    assert not [name for name in evidence["own_environ"] if name.startswith("HUAWEICLOUD")], evidence["own_environ"]
    assert str(os.getpid()) not in evidence["processes"] and len(evidence["processes"]) < 10
