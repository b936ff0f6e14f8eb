"""One local OBS folder feeds smoke runs and emulated promotions; a job of an emulator's session sees its endpoints."""

from __future__ import annotations

from pathlib import Path

from pytest_modelarts import Estimator

READS_THROUGH_MOXING = """\
import argparse, os
import moxing as mox
p = argparse.ArgumentParser(); p.add_argument('--train_url'); a, _ = p.parse_known_args()
text = mox.file.read('obs://emulator-bucket/shared/hello.txt')
open(os.path.join(a.train_url, 'seen.txt'), 'w').write(text + '|' + os.environ['S3_ENDPOINT'] + '|' + os.environ['S3_USE_HTTPS'])
mox.file.write('obs://emulator-bucket/shared/from-the-smoke-run.txt', 'written locally')
"""


def test_a_smoke_run_and_the_emulator_share_one_obs_folder(modelarts_emulator, tmp_path: Path) -> None:
    shared = Path(modelarts_emulator.obs_root) / "emulator-bucket" / "shared"
    shared.mkdir(parents=True)
    (shared / "hello.txt").write_text("hello from OBS")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(READS_THROUGH_MOXING)
    session = modelarts_emulator.session(obs_root=modelarts_emulator.obs_root)
    out = tmp_path / "out"
    Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
              train_instance_count=1, output_path=str(out)).fit(wait=True)
    text, endpoint, https = (out / "seen.txt").read_text().split("|")
    assert text == "hello from OBS" and endpoint == modelarts_emulator.obs_endpoint and https == "0"
    # what the smoke run wrote through moxing is an object the emulator's OBS serves
    assert "shared/from-the-smoke-run.txt" in modelarts_emulator.objects(prefix="shared/")
