"""v2 exact by default, v1 on request, moxing and a local OBS (docs/contract.md).

The jobs run in sandboxed nodes, where /cache exists, as on ModelArts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, JobPhase, ParameterError, Session

OLD_STYLE = """\
# a v1-era script: obs:// URLs as arguments, moxing to move data, DLS_* variables
import argparse, json, os
import moxing as mox
p = argparse.ArgumentParser()
p.add_argument('--data_url'); p.add_argument('--train_url'); p.add_argument('--num_gpus')
a, _ = p.parse_known_args()
assert a.data_url.startswith('obs://') and a.train_url.startswith('obs://'), (a.data_url, a.train_url)
mox.file.copy_parallel(a.data_url, '/cache/data')
names = sorted(os.listdir('/cache/data'))
mox.file.write(a.train_url.rstrip('/') + '/result.json', json.dumps({
    'seen': names, 'cwd': os.getcwd(), 'home': os.environ['HOME'], 'task': os.environ['DLS_TASK_INDEX'],
    'workers': os.environ['DLS_TASK_NUMBER'], 'app': os.environ['DLS_APP_URL'], 'data': os.environ['DLS_DATA_URL'],
    'ma': sorted(k for k in os.environ if k.startswith(('MA_', 'VC_'))), 'file': os.path.abspath(__file__),
}))
print('old style done', flush=True)
"""

V2_MOXING = """\
import argparse, os
import moxing as mox
p = argparse.ArgumentParser(); p.add_argument('--data_url'); p.add_argument('--train_url'); a, _ = p.parse_known_args()
mox.file.copy_parallel(a.data_url, '/cache/data')
assert mox.file.exists('/cache/data/a.csv') and mox.file.list_directory('/cache/data') == ['a.csv', 'b.csv']
mox.file.copy('/cache/data/a.csv', os.path.join(a.train_url, 'copied.csv'))
print('dls', sorted(k for k in os.environ if k.startswith(('DLS_', 'BATCH_'))), flush=True)
"""


@pytest.fixture
def obs(tmp_path: Path) -> Path:
    """A local OBS folder with a bucket holding a data set."""
    root = tmp_path / "obs"
    data = root / "my-bucket" / "digits"
    data.mkdir(parents=True)
    (data / "a.csv").write_text("1,2\n")
    (data / "b.csv").write_text("3,4\n")
    return root


def code_with(tmp_path: Path, source: str) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(source)
    return code


def test_a_v1_job_runs_an_old_style_script_against_the_local_obs(tmp_path: Path, obs: Path) -> None:
    session = Session(local_root=tmp_path / "root", stream_logs=False, sandbox=True, obs_root=obs, contract="v1")
    job = Estimator(modelarts_session=session, code_dir=str(code_with(tmp_path, OLD_STYLE)), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1,
                    output_path="obs://my-bucket/out/").fit(inputs="obs://my-bucket/digits/", wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    landed = obs / "my-bucket" / "out" / "result.json"  # written through moxing to the obs:// train_url
    result = json.loads(landed.read_text())
    assert result["seen"] == ["a.csv", "b.csv"]
    assert result["file"] == "/home/work/user-job-dir/code/train.py" and result["cwd"] == "/home/work/user-job-dir"
    assert (result["home"], result["task"], result["workers"]) == ("/home/work", "0", "1")
    assert result["app"].startswith("obs://") and result["data"] == "obs://my-bucket/digits/"
    assert result["ma"] == []  # a v1 container has no MA_* or VC_* variables


def test_a_v1_job_with_local_inputs_gets_a_bucket_of_its_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("5\n")
    session = Session(local_root=tmp_path / "root", stream_logs=False, sandbox=True, contract="v1")
    out = tmp_path / "out"
    job = Estimator(modelarts_session=session, code_dir=str(code_with(tmp_path, OLD_STYLE)), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1, output_path=str(out)).fit(inputs=str(data), wait=True)
    result = json.loads((out / "result.json").read_text())  # the job's own train_url bucket, delivered as ever
    assert result["seen"] == ["x.csv"] and result["data"] == f"obs://modelarts-local-{job.job_id}/inputs/"
    assert job.lost_writes == []


def test_a_v2_script_uses_moxing_on_local_paths_and_sees_no_v1_variables(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    (data / "b.csv").write_text("2\n")
    session = Session(local_root=tmp_path / "root", stream_logs=False, sandbox=True)
    out = tmp_path / "out"
    job = Estimator(modelarts_session=session, code_dir=str(code_with(tmp_path, V2_MOXING)), boot_file="train.py",
                    train_instance_type="local", train_instance_count=1, output_path=str(out)).fit(inputs=str(data), wait=True)
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert (out / "copied.csv").read_text() == "1\n"
    assert "dls []" in job.logs()


def test_online_locations_of_the_local_obs_can_be_smoke_tested_as_they_are(tmp_path: Path, obs: Path) -> None:
    session = Session(local_root=tmp_path / "root", stream_logs=False, obs_root=obs)
    code = code_with(tmp_path, "import argparse, os, shutil\np = argparse.ArgumentParser()\np.add_argument('--data_url'); "
                               "p.add_argument('--train_url')\na, _ = p.parse_known_args()\n"
                               "shutil.copy(os.path.join(a.data_url, 'a.csv'), a.train_url)\n")
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, output_path="obs://my-bucket/smoke-out/").fit(inputs="obs://my-bucket/digits/", wait=True)
    assert job.output_path == str(obs / "my-bucket" / "smoke-out")
    assert (obs / "my-bucket" / "smoke-out" / "a.csv").read_text() == "1,2\n"
    with pytest.raises(ParameterError, match=r"fit\(inputs='obs://other-bucket/x/'\): does not exist in the local OBS"):
        Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                  train_instance_count=1).fit(inputs="obs://other-bucket/x/")
    with pytest.raises(ParameterError, match=r"obs:// URL of a local OBS \(Session\(obs_root=...\)\)"):
        Estimator(modelarts_session=Session(local_root=tmp_path / "r2"), code_dir=str(code), boot_file="train.py",
                  train_instance_type="local", train_instance_count=1).fit(inputs="obs://my-bucket/digits/")
