"""One job model: JobConfig's rules run once and again only where a change reaches; one Location; one code-tree policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, Hyperparameters, JobConfig, Location, ParameterError, Session
from pytest_modelarts.core.codetree import CodeTree, Entry

LIST_OWN_TREE = """\
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
seen = sorted(os.path.relpath(os.path.join(base, name), here) for base, dirs, files in os.walk(here) for name in files)
print("TREE=" + json.dumps(seen))
"""


def project_files(root: Path) -> list[str]:
    (root / "train.py").write_text(LIST_OWN_TREE)
    (root / "lib").mkdir()
    (root / "lib" / "util.py").write_text("X = 1\n")
    (root / "data.csv").write_text("1,2\n")
    for noise in (".git/objects/ab", "__pycache__", ".pytest_cache/v"):
        (root / noise).mkdir(parents=True)
        (root / noise / "junk").write_text("not code\n")
    return ["data.csv", "lib/util.py", "train.py"]


def tree_seen(job) -> list[str]:
    line = next(line for line in job.logs().splitlines() if line.startswith("TREE="))
    return json.loads(line.removeprefix("TREE="))


def test_code_dir_dot_at_the_project_root_runs_three_times_seeing_only_the_project(tmp_path, monkeypatch) -> None:
    """The run root (./.modelarts) lies inside code_dir='.': no run may copy earlier runs, or itself, into itself."""
    project = tmp_path / "project"
    project.mkdir()
    expected = project_files(project)
    monkeypatch.chdir(project)
    session = Session(stream_logs=False, stop_grace_period=1.0)
    estimator = Estimator(modelarts_session=session, code_dir=".", boot_file="train.py",
                          train_instance_type="local", train_instance_count=1)
    for run in range(3):
        job = estimator.fit(wait=True, job_name=f"dot-{run}")
        assert tree_seen(job) == expected, f"run {run}"
    assert len(list((project / ".modelarts" / "runs").iterdir())) == 3


def test_a_configured_run_root_inside_the_code_dir_is_left_out_too(tmp_path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    expected = project_files(project)
    session = Session(local_root=project / "sandboxes", stream_logs=False, stop_grace_period=1.0)
    estimator = Estimator(modelarts_session=session, code_dir=str(project), boot_file="train.py",
                          train_instance_type="local", train_instance_count=1)
    for run in range(2):
        assert tree_seen(estimator.fit(wait=True)) == expected, f"run {run}"


def test_evolve_checks_again_only_what_a_change_can_affect(tmp_path) -> None:
    """A change of hyperparameters does not walk the code tree again; a change of instance type does."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('x')\n")
    config = JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local",
                                train_instance_count=1).fit(job_name="j")
    for i in range(1001):  # now over the ModelArts limit, unknown to the checked config
        (code / f"f{i}.txt").write_text("")
    changed = config.evolve(hyperparameters=[{"label": "epochs", "value": "3"}])
    assert changed.hyperparameters == Hyperparameters([("epochs", "3")]) and changed.job_name == "j"
    with pytest.raises(ParameterError, match=r"code_dir=.*more than 1000 files and folders"):
        config.evolve(train_instance_type="modelarts.vm.cpu.2u", output_path="obs://b/out/")


def test_evolve_checks_the_fields_it_changes(tmp_path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("")
    config = JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local",
                                train_instance_count=1).fit()
    with pytest.raises(ParameterError, match=r"Estimator\(train_instance_count=0\): must be an int >= 1"):
        config.evolve(train_instance_count=0)
    with pytest.raises(ParameterError, match=r"fit\(job_name='a b'\)"):
        config.evolve(job_name="a b")
    with pytest.raises(ParameterError, match=r"unknown keyword argument 'epochs'.*the parameters are"):
        config.evolve(epochs=3)
    online = config.evolve(train_instance_type="modelarts.vm.cpu.2u", output_path="obs://b/out/", inputs="obs://b/in/")
    assert online.output_path.is_remote and online.output_path.bucket == "b" and online.job_name == config.job_name


def test_hyperparameters_are_one_type_from_each_boundary() -> None:
    from pytest_modelarts.pytest_plugin.marker import build_spec

    sdk = JobConfig.template(user_image_url="img:1", user_command="run", train_instance_type="local", train_instance_count=1,
                             hyperparameters=[{"label": "lr", "value": "0.1"}]).hyperparameters
    marker = build_spec({"hyperparameters": {"lr": 0.1}}, Path(".")).hyperparameters
    assert type(sdk) is type(marker) is Hyperparameters
    assert sdk == marker == (("lr", "0.1"),)
    assert marker.updated({"lr": "1", "epochs": "2"}.items()) == (("lr", "1"), ("epochs", "2"))
    with pytest.raises(ParameterError, match="label 'lr' is given twice"):
        JobConfig.template(user_image_url="img:1", user_command="run", train_instance_type="local", train_instance_count=1,
                           hyperparameters=[{"label": "lr", "value": "1"}, {"label": "lr", "value": "2"}])


ECHO_ARGS = "import json, sys\nprint('ARGS=' + json.dumps([a for a in sys.argv[1:] if not a.startswith(('--data_url', '--train_url', '--num_gpus'))]))\n"


def test_the_hyperparameter_dict_is_accepted_wherever_hyperparameters_are(tmp_path) -> None:
    """The Estimator, ``with_overrides`` and ``JobConfig.evolve`` take the dict ``{"epochs": 3}`` (numbers and
    bools become str, as in the marker) and the SDK's list; the boot file gets the same ``--label=value`` either way."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(ECHO_ARGS)
    session = Session(local_root=str(tmp_path / ".modelarts"))
    estimator = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                          train_instance_count=1, hyperparameters={"epochs": 2, "lr": 0.5, "shuffle": True, "name": "a"})
    assert estimator.config.hyperparameters == (("epochs", "2"), ("lr", "0.5"), ("shuffle", "true"), ("name", "a"))
    overridden = estimator.with_overrides(hyperparameters={"epochs": 3})  # merged: the other labels keep their values
    assert overridden.config.hyperparameters == Hyperparameters([("epochs", "3"), ("lr", "0.5"), ("shuffle", "true"), ("name", "a")])
    assert estimator.with_overrides(hyperparameters=[{"label": "epochs", "value": "3"}]).config == overridden.config
    assert estimator.config.evolve(hyperparameters={"epochs": 3}).hyperparameters == Hyperparameters([("epochs", "3")])  # replaces
    assert estimator.with_overrides(hyperparameters={"seed": 7}).config.hyperparameters.labels() == ["epochs", "lr", "shuffle", "name", "seed"]
    for est, expected in ((estimator, ["--epochs=2", "--lr=0.5", "--shuffle=true", "--name=a"]),
                          (overridden, ["--epochs=3", "--lr=0.5", "--shuffle=true", "--name=a"])):
        job = est.fit(wait=True)
        line = next(line for line in job.logs().splitlines() if line.startswith("ARGS="))
        assert json.loads(line.removeprefix("ARGS=")) == expected
    with pytest.raises(ParameterError, match=r"Estimator\(hyperparameters=\{'label': 'learning rate', 'value': '1'\}\): label must be"):
        estimator.with_overrides(hyperparameters={"learning rate": 1})
    with pytest.raises(ParameterError, match=r"value must be a str \(got list\)"):
        estimator.with_overrides(hyperparameters={"epochs": [3]})
    with pytest.raises(ParameterError, match=r"must be a dict \{\"epochs\": 3\} or a list"):
        estimator.with_overrides(hyperparameters="epochs=3")


@pytest.mark.parametrize(("text", "remote", "scheme"), [
    ("obs://bucket/a/b/", True, "obs"), ("s3://bucket/k", True, "s3"), ("file:///tmp/x", False, ""),
    ("data/x", False, ""), ("~/x", False, ""), ("https://host/x", True, "https"),
])
def test_a_location_is_parsed_once_and_is_still_the_text_given(text: str, remote: bool, scheme: str) -> None:
    where = Location(text)
    assert where == text and where.is_remote is remote and where.scheme == scheme
    if remote:
        with pytest.raises(ValueError, match="not a local path"):
            _ = where.path
    else:
        assert where.path == Path(text.removeprefix("file://")).expanduser()
    assert Location(where) is where


def test_a_location_of_an_object_store_names_its_bucket_key_and_last_segment() -> None:
    where = Location("obs://my-bucket/jobs/code/")
    assert (where.bucket, where.key, where.name) == ("my-bucket", "jobs/code/", "code")
    with pytest.raises(ValueError, match="local path"):
        _ = Location("code").bucket


def test_the_code_tree_policy_is_the_same_for_counting_copying_and_hashing(tmp_path) -> None:
    root = tmp_path / "code"
    root.mkdir()
    expected = project_files(root)
    (root / "lib" / "util.cpython-311.pyc").write_text("compiled")
    (root / ".modelarts" / "runs").mkdir(parents=True)
    (root / ".modelarts" / "runs" / "old.py").write_text("")
    (root / "sandboxes").mkdir()
    (root / "sandboxes" / "run.py").write_text("")
    tree = CodeTree(root, exclude=(root / "sandboxes",))
    assert sorted(e.rel for e in tree.files()) == expected
    assert sorted(tree.excluded) == [".git/", ".modelarts/", ".pytest_cache/", "__pycache__/", "lib/util.cpython-311.pyc", "sandboxes/"]
    assert tree.stats().files == len(expected)
    copy = tmp_path / "copy"
    tree.copy_to(copy)
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file()) == expected
    assert CodeTree(copy).digest() == tree.digest()
    (copy / "lib" / "util.py").write_text("X = 2\n")
    assert CodeTree(copy).digest() != tree.digest()


def test_the_code_directory_limit_does_not_count_what_the_policy_leaves_out(tmp_path) -> None:
    code = tmp_path / "code"
    (code / ".git" / "objects").mkdir(parents=True)
    (code / "train.py").write_text("")
    for i in range(1200):
        (code / ".git" / "objects" / f"o{i}").write_text("")
    config = JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1)
    assert config.code_tree is not None and config.code_tree.stats().files == 1


def test_the_code_directory_rule_walks_the_tree_once(tmp_path, monkeypatch) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("")
    walks = []
    entries = CodeTree.entries

    def counted(self: CodeTree) -> Iterator[Entry]:
        walks.append(self.root)
        return entries(self)

    monkeypatch.setattr(CodeTree, "entries", counted)
    JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1)
    assert walks == [code.resolve()]
    (code / "escape.txt").symlink_to(tmp_path / "outside.txt")
    walks.clear()
    with pytest.raises(ParameterError, match="'escape.txt' is a symlink to .* outside the directory"):
        JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1)
    assert walks == [code.resolve()]
