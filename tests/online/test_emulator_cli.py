"""``python -m pytest_modelarts.emulator`` serves until told to stop, and never prints the secret key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests


def test_cli_prints_the_endpoints_and_stops_on_sigterm(tmp_path):
    env = dict(os.environ, HUAWEICLOUD_SDK_AK="CLIAK", HUAWEICLOUD_SDK_SK="cli-secret-value")
    proc = subprocess.Popen([sys.executable, "-m", "pytest_modelarts.emulator", "--root", str(tmp_path), "--bucket", "b1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        exports = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines[:3])
        r = requests.get(exports["MODELARTS_ENDPOINT"] + "/v2/emulator-project/training-jobs/x", timeout=5)
        assert r.status_code == 401 and r.json()["error_code"] == "APIGW.0301"
        assert (tmp_path / "obs" / "b1").is_dir()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "cli-secret-value" not in "".join(lines) + out + err


def test_users_get_the_emulator_fixture_from_the_plugin(pytester):
    """No conftest needed: the plugin brings ``modelarts_emulator`` for users' tests of the online path."""
    pytester.makepyfile(
        """
        def test_it(modelarts_emulator):
            session = modelarts_emulator.session()
            assert session.endpoint == modelarts_emulator.endpoint
            assert modelarts_emulator.jobs() == []
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
