"""A gallery of boot files written from the patterns of public ModelArts boot files (../shared survey: copy_parallel
to /cache and back, shift('os', 'mox'), moxing.tensorflow/pytorch/framework imports, DLS_* on v1 jobs, DEVICE_ID and
RANK_SIZE reads, strict argument parsing, outputs copied from a local directory, MoXing's training framework), each run
unchanged as a local job on the Python it targets, with the outcome it would have online."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, Environment, Estimator, JobPhase, Session
from pytest_modelarts.envs.interpreters import find_interpreters
from tests.support.requirements import missing

BOOT = Path(__file__).with_name("boot")


@dataclass(frozen=True)
class Pattern:
    boot_file: str
    python: str  # the engine's Python the boot file targets
    contract: str = "v2"
    hyperparameters: tuple[tuple[str, str], ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)  # file below train_url -> its content
    logs: tuple[str, ...] = ()  # what the job's log says
    fails: bool = False
    nodes: int = 1

    def __str__(self) -> str:
        return self.boot_file if self.contract == "v2" else f"{self.boot_file}-{self.contract}"


GALLERY = [
    Pattern("cache_roundtrip.py", "3.7", hyperparameters=(("epochs", "3"),),
            outputs={"ckpt/model-3.txt": "rows=3 rank=0/1 job=default"}, logs=("trained on 3 rows; ignored []",)),
    Pattern("tf1_v1_flags.py", "2.7", contract="v1",
            outputs={"summary.txt": "python=2 task=0/1 gpus=0 names=a.csv,b.csv,labels.txt,sub,sub/c.csv labels=cat,dog"}),
    Pattern("shift_readers.py", "3.6", contract="v1",
            outputs={"metrics/total.txt": "6 from ['a.csv', 'b.csv', 'labels.txt', 'sub']"}, logs=("total 6 of 2 files",)),
    Pattern("framework_file.py", "3.11", hyperparameters=(("lr", "0.01"),),
            outputs={"report.txt": "x,y rows=2 lr=0.01 batch=8 mode=TRAIN"}),
    Pattern("local_outputs.py", "2.7", outputs={"log.txt": "device 0 of 1\n"}, logs=("copied ['log.txt', 'weights.bin']",)),
    Pattern("multinode_rank0.py", "3.11", nodes=2, outputs={"result.txt": "workers=2 files=4"},
            logs=("rank 0 of 2, master modelarts-job-", "/cache holds ['node-0']")),  # each node has its own /cache
    # a v2 job gets no argument it did not declare; the old platform appended --num_gpus (docs/contract.md)
    Pattern("strict_args.py", "3.11", logs=("parsed Namespace(data_url='/home/ma-user/modelarts/inputs/data_url_0'",)),
    Pattern("strict_args.py", "3.11", contract="v1", fails=True, logs=("error: unrecognized arguments: --num_gpus=0",)),
    Pattern("mox_run.py", "3.6", fails=True,
            logs=("MoxUnsupportedError: mox.get_optimizer_fn (moxing.tensorflow) is MoXing's training framework",)),
]


def write_data(folder: Path) -> None:
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("1\n2\n")
    (folder / "b.csv").write_text("3\n")
    (folder / "sub" / "c.csv").write_text("x,y\n1,2\n3,4\n")
    (folder / "labels.txt").write_text("cat dog\n")


@pytest.mark.parametrize("pattern", GALLERY, ids=str)
def test_a_boot_file_of_the_gallery_runs_as_it_would_online(pattern: Pattern, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not any(i.minor == pattern.python for i in find_interpreters()):
        missing(f"python{pattern.python}", f"no Python {pattern.python} on this machine (pyenv install {pattern.python})")
    monkeypatch.setenv("PYTEST_MODELARTS_PYTHON", "local")
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    (code / pattern.boot_file).write_text((BOOT / pattern.boot_file).read_text())
    obs = tmp_path / "obs"
    v1 = pattern.contract == "v1"
    data = obs / "my-bucket" / "data" if v1 else tmp_path / "data"
    write_data(data)
    env = Environment("py" + pattern.python.replace(".", ""), conda=CondaDependencies.create(conda_packages=[f"python={pattern.python}"]))
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False, obs_root=obs,
                      contract=pattern.contract)
    out = obs / "my-bucket" / "out" if v1 else tmp_path / "out"
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file=pattern.boot_file, train_instance_type="local",
                    train_instance_count=pattern.nodes, environment=env, output_path="obs://my-bucket/out/" if v1 else str(out),
                    hyperparameters=[{"label": k, "value": v} for k, v in pattern.hyperparameters],
                    ).fit(inputs="obs://my-bucket/data/" if v1 else str(data), wait=False)
    phase = job.wait(600)
    logs = job.logs()
    assert phase is (JobPhase.FAILED if pattern.fails else JobPhase.COMPLETED), logs[-3000:]
    for line in pattern.logs:
        assert line in logs, logs[-3000:]
    for name, content in pattern.outputs.items():
        assert (out / name).read_text() == content
