"""The container around the boot file: the variables and files every v2 training container has, one test each.

Sources (docs/contract.md): the user guide's page on training-container variables (VARS), "Using a Preset Image
with Customization" (CUSTOM: ``PATH=${MA_HOME}/anaconda/bin:${PATH}``, ``LD_LIBRARY_PATH=${MA_HOME}/anaconda/lib:...``),
Volcano's svc job plugin (``/etc/volcano/<task>.host``), and the user guide's own boot file that parses its
arguments strictly (``--num_gpus`` is not appended in v2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.core import contract
from pytest_modelarts.emulator.fixtures import running_emulator

MA = "/home/ma-user"
PIP_INDEX = "http://pip.example.invalid/repository/pypi/simple/"

PROBE = """\
import argparse, json, os, socket, sys
p = argparse.ArgumentParser(); p.add_argument('--data_url'); p.add_argument('--train_url')
a = p.parse_args()  # strict: any argument the platform adds beyond these fails the job
try:
    volcano = {name: open(os.path.join('/etc/volcano', name)).read() for name in os.listdir('/etc/volcano')}
except OSError as exc:
    volcano = str(exc)
seen = {'env': dict(os.environ), 'volcano': volcano, 'argv': sys.argv[1:], 'gethostname': socket.gethostname(),
        'own_address': socket.gethostbyname(os.environ['HOSTNAME'])}
with open(os.path.join(a.train_url, 'probe-%s.json' % os.environ['VC_TASK_INDEX']), 'w') as f:
    json.dump(seen, f)
"""


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """One two-worker job of an emulator's session (its endpoints are the ones to name), probed once."""
    root = tmp_path_factory.mktemp("container")
    code = root / "code"
    code.mkdir()
    (code / "probe.py").write_text(PROBE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIP_INDEX_URL", PIP_INDEX)
        for emulator in running_emulator(tmp_path_factory):
            session = emulator.session(local_root=root / "runs", stream_logs=False)
            job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="probe.py", train_instance_type="local",
                            train_instance_count=2, output_path=str(root / "out")).fit(wait=True)
            assert job.phase is JobPhase.COMPLETED, job.logs()
            yield [json.loads((root / "out" / f"probe-{i}.json").read_text()) for i in range(2)], emulator


def test_s3_endpoint_is_the_local_obs_endpoint(probes) -> None:
    seen, emulator = probes
    assert all(s["env"]["S3_ENDPOINT"] == emulator.obs_endpoint for s in seen)
    assert urlsplit(emulator.obs_endpoint).scheme == "http"


def test_s3_use_https_follows_the_endpoint(probes) -> None:
    assert all(s["env"]["S3_USE_HTTPS"] == "0" for s in probes[0])


def test_s3_verify_ssl_follows_the_endpoint(probes) -> None:
    assert all(s["env"]["S3_VERIFY_SSL"] == "0" for s in probes[0])


def test_ma_apigw_endpoint_is_the_modelarts_endpoint(probes) -> None:
    seen, emulator = probes
    assert all(s["env"]["MA_APIGW_ENDPOINT"] == emulator.endpoint for s in seen)


def test_ld_library_path_has_the_preset_images_anaconda_lib(probes) -> None:
    for s in probes[0]:
        parts = s["env"]["LD_LIBRARY_PATH"].split(":")
        assert f"{MA}/anaconda/lib" in parts and "/usr/local/cuda/lib64" in parts


def test_library_path_is_the_documented_one(probes) -> None:
    assert all(s["env"]["LIBRARY_PATH"] == contract.PRESET_STATIC_LIBRARY_PATH == "/usr/local/cuda/lib64/stubs" for s in probes[0])


def test_hostname_is_the_workers_short_host_name(probes) -> None:
    for index, s in enumerate(probes[0]):
        hosts = s["env"]["VC_WORKER_HOSTS"].split(",")
        assert s["env"]["HOSTNAME"] == s["gethostname"] == hosts[index].split(".")[0] == s["env"]["MA_CURRENT_INSTANCE_NAME"]


def test_path_has_ma_home_anaconda_bin_before_the_system_folders(probes) -> None:
    for s in probes[0]:
        parts = s["env"]["PATH"].split(":")
        assert parts.index(f"{MA}/anaconda/bin") < parts.index("/usr/bin")


def test_ma_pip_url_and_host_name_the_callers_index(probes) -> None:
    for s in probes[0]:
        assert s["env"]["MA_PIP_URL"] == PIP_INDEX and s["env"]["MA_PIP_HOST"] == "pip.example.invalid"


def test_ma_current_ip_is_the_nodes_own_address(probes) -> None:
    addresses = [s["env"]["MA_CURRENT_IP"] for s in probes[0]]
    assert len(set(addresses)) == 2
    for s in probes[0]:
        assert s["own_address"] == s["env"]["MA_CURRENT_IP"] and s["env"]["MA_CURRENT_IP"] != "127.0.0.1"


def test_etc_volcano_worker_host_lists_every_worker_in_index_order(probes) -> None:
    for s in probes[0]:
        assert s["volcano"] == {"worker.host": "".join(f"{h}\n" for h in s["env"]["VC_WORKER_HOSTS"].split(","))}


def test_a_strict_parse_args_boot_file_runs_on_v2(probes) -> None:
    """The probe parses its arguments with parse_args(): the v2 platform appends no --num_gpus."""
    assert all(not any(arg.startswith("--num_gpus") for arg in s["argv"]) for s in probes[0])


def test_v1_still_appends_num_gpus(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import sys\nprint('argv', sys.argv[1:])\n")
    job = Estimator(modelarts_session=Session(local_root=tmp_path / "runs", stream_logs=False, contract="v1"),
                    code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1).fit(wait=True)
    assert job.phase is JobPhase.COMPLETED and "'--num_gpus=0']" in job.logs()


def test_the_volcano_files_leave_the_hosts_etc_untouched(probes) -> None:
    assert not Path("/etc/volcano").exists() or Path("/etc/volcano/worker.host").read_text() != probes[0][0]["volcano"]["worker.host"]
