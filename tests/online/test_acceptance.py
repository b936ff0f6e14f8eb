"""Acceptance: ``pytest --modelarts --modelarts-promote`` on the example, against the emulator.

The outer test starts an emulator, points the SDK's environment variables at it and runs the example's
smoke tests in an inner pytest; the plugin promotes the passing ones through the online backend.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_modelarts.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytest.importorskip("sklearn")


@pytest.fixture
def example_emulator(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("emu")
    with Emulator("ACCEPTANCEAK", "acceptance-Secret-Key-123", "acceptance-project", root=root,
                  buckets=("my-bucket",), phase_delay=0.05) as emulator:
        # the example names no preset engine, which ModelArts requires of a boot-file job (docs/contract.md,
        # "Preset engines"): no engine of the catalog runs its Python 3.11 and scikit-learn 1.x
        emulator.training.require_engine = False
        shutil.copytree(EXAMPLES / "data" / "digits_sample", emulator.obs_root / "my-bucket" / "digits")
        for name, value in {"HUAWEICLOUD_SDK_AK": "ACCEPTANCEAK", "HUAWEICLOUD_SDK_SK": "acceptance-Secret-Key-123",
                            "HUAWEICLOUD_SDK_PROJECT_ID": "acceptance-project", "MODELARTS_ENDPOINT": emulator.endpoint,
                            "MODELARTS_OBS_ENDPOINT": emulator.obs_endpoint}.items():
            monkeypatch.setenv(name, value)
        yield emulator


def _example(pytester) -> None:
    shutil.copytree(EXAMPLES / "mnist_mlp", pytester.path / "mnist_mlp")
    shutil.copytree(EXAMPLES / "data", pytester.path / "data")
    shutil.copy(EXAMPLES / "test_mnist_mlp.py", pytester.path / "test_mnist_mlp.py")
    for name in ("mlp_digits.env.toml", "mlp-digits.conda-lock.yml"):  # the locked environment, as committed
        shutil.copy(EXAMPLES / name, pytester.path / name)


def test_promote_the_example_end_to_end_and_rerun_submits_nothing(pytester, example_emulator):
    _example(pytester)
    args = ("--modelarts", "--modelarts-promote", "--modelarts-promote-wait", "--modelarts-python-source=local",
            "--modelarts-lock-mode=check", "-p", "no:cacheprovider", "-k", "learns")
    result = pytester.runpytest_subprocess(*args, "--junitxml=first.xml")
    result.assert_outcomes(passed=1)
    jobs = example_emulator.jobs()
    assert len(jobs) == 1
    assert jobs[0]["status"]["phase"] == "Completed", jobs[0]["emulator"]
    assert jobs[0]["spec"]["resource"]["flavor_id"] == "modelarts.vm.cpu.2u"
    assert [p["value"] for p in jobs[0]["algorithm"]["parameters"] if p["name"] == "epochs"] == ["30"]  # smoke overrides dropped
    outputs = {p.name for p in (example_emulator.obs_root / "my-bucket" / "mnist-mlp" / "output").iterdir()}
    assert {"model.pkl", "metrics.json"} <= outputs
    # the locked environment travelled with the code, pinned as in the committed lock
    [requirements] = (example_emulator.obs_root / "my-bucket").rglob("mnist_mlp/pip-requirements.txt")
    pins = requirements.read_text().splitlines()
    locked = {line.strip().split(": ", 1)[1] for line in (EXAMPLES / "mlp-digits.conda-lock.yml").read_text().splitlines()
              if line.startswith("- name: ")}
    assert any(p.startswith("scikit-learn==") for p in pins) and {p.split("==")[0] for p in pins[1:]} == locked
    job_id = jobs[0]["metadata"]["id"]
    assert job_id in result.stdout.str()
    assert job_id in (pytester.path / "first.xml").read_text()

    rerun = pytester.runpytest_subprocess(*args, "--junitxml=second.xml")
    rerun.assert_outcomes(passed=1)
    assert len(example_emulator.jobs()) == 1
    assert example_emulator.training.create_requests == 1
    report = (pytester.path / "first.xml").read_text() + (pytester.path / "second.xml").read_text()
    assert "acceptance-Secret-Key-123" not in report + result.stdout.str() + rerun.stdout.str()
    ET.fromstring((pytester.path / "second.xml").read_text())


def test_a_failing_smoke_test_promotes_nothing(pytester, example_emulator):
    _example(pytester)
    (pytester.path / "mnist_mlp" / "train.py").write_text("import sys\nsys.exit('broken on purpose')\n")
    result = pytester.runpytest_subprocess("--modelarts", "--modelarts-promote", "--modelarts-python-source=local",
                                          "-p", "no:cacheprovider", "-k", "learns")
    result.assert_outcomes(failed=1)
    assert example_emulator.jobs() == []
    assert example_emulator.requests == {"modelarts": 0, "obs": 0}
