"""Every rule of the SDK reference's four tables is enforced before anything runs, with an error naming the parameter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from pytest_modelarts import CondaDependencies, ContainerOptions, Environment, Estimator, JobConfig, ParameterError, Session
from pytest_modelarts.core.objectstore import LocalObs


def make_estimator(session: Session, code: Path, **overrides: Any) -> Estimator:
    params: dict[str, Any] = dict(
        modelarts_session=session, code_dir=str(code), boot_file="train.py",
        train_instance_type="local", train_instance_count=1,
    )
    params.update(overrides)
    return Estimator(**{k: v for k, v in params.items() if v is not _DROP})


_DROP = object()

# (id, parameter the message must name, call) -- the call gets (session, code_dir, tmp_path)
ESTIMATOR_CASES: list[tuple[str, str, Callable[[Session, Path, Path], Any]]] = [
    ("session missing", "modelarts_session", lambda s, c, t: make_estimator(s, c, modelarts_session=_DROP)),
    ("session wrong type", "modelarts_session", lambda s, c, t: make_estimator(s, c, modelarts_session="sess")),
    ("instance type missing", "train_instance_type", lambda s, c, t: make_estimator(s, c, train_instance_type=_DROP)),
    ("instance type not a str", "train_instance_type", lambda s, c, t: make_estimator(s, c, train_instance_type=3)),
    ("instance type with spaces", "train_instance_type", lambda s, c, t: make_estimator(s, c, train_instance_type="local host")),
    ("count missing", "train_instance_count", lambda s, c, t: make_estimator(s, c, train_instance_count=_DROP)),
    ("count zero", "train_instance_count", lambda s, c, t: make_estimator(s, c, train_instance_count=0)),
    ("count negative", "train_instance_count", lambda s, c, t: make_estimator(s, c, train_instance_count=-2)),
    ("count bool", "train_instance_count", lambda s, c, t: make_estimator(s, c, train_instance_count=True)),
    ("count str", "train_instance_count", lambda s, c, t: make_estimator(s, c, train_instance_count="2")),
    ("code dir missing on disk", "code_dir", lambda s, c, t: make_estimator(s, c, code_dir=str(t / "nope"))),
    ("code dir is a file", "code_dir", lambda s, c, t: make_estimator(s, c, code_dir=str(c / "train.py"))),
    ("code dir obs locally", "code_dir", lambda s, c, t: make_estimator(s, c, code_dir="obs://bucket/code/")),
    ("boot file without code dir", "code_dir", lambda s, c, t: make_estimator(s, c, code_dir=_DROP)),
    ("neither code nor model", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file=_DROP)),
    ("boot file escapes with ..", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file="../outside.py")),
    ("boot file absolute elsewhere", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file="/etc/hostname.py")),
    ("boot file not .py", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file="run.sh")),
    ("boot file does not exist", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file="missing.py")),
    ("boot file empty str", "boot_file", lambda s, c, t: make_estimator(s, c, boot_file="")),
    ("model name with code dir", "code_dir", lambda s, c, t: make_estimator(s, c, model_name="ResNet_v1_50", boot_file=_DROP, train_instance_type="modelarts.vm.cpu.2u")),
    ("model name with framework", "framework_type", lambda s, c, t: make_estimator(s, c, model_name="ResNet_v1_50", code_dir=_DROP, boot_file=_DROP, framework_type="PyTorch", train_instance_type="modelarts.vm.cpu.2u")),
    ("model name locally", "model_name", lambda s, c, t: make_estimator(s, c, model_name="ResNet_v1_50", code_dir=_DROP, boot_file=_DROP)),
    ("hyperparameters a dict with a None value", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters={"lr": None})),
    ("hyperparameters a dict with a bad label", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters={"learning rate": 1})),
    ("hyperparameter missing value", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "lr"}])),
    ("hyperparameter extra key", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "lr", "value": "1", "type": "float"}])),
    ("hyperparameter value not str", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "lr", "value": 0.1}])),
    ("hyperparameter label with space", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "learning rate", "value": "1"}])),
    ("hyperparameter label twice", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "lr", "value": "1"}, {"label": "lr", "value": "2"}])),
    ("hyperparameter shadows data_url", "hyperparameters", lambda s, c, t: make_estimator(s, c, hyperparameters=[{"label": "data_url", "value": "/x"}])),
    ("output path obs locally", "output_path", lambda s, c, t: make_estimator(s, c, output_path="obs://bucket/out/")),
    ("output path is a file", "output_path", lambda s, c, t: make_estimator(s, c, output_path=str(c / "train.py"))),
    ("log url obs locally", "log_url", lambda s, c, t: make_estimator(s, c, log_url="obs://bucket/log/")),
    ("log url http", "log_url", lambda s, c, t: make_estimator(s, c, log_url="http://example.invalid/logs", train_instance_type="modelarts.vm.cpu.2u")),
    ("framework version without type", "framework_version", lambda s, c, t: make_estimator(s, c, framework_version="1.8")),
    ("description too long", "job_description", lambda s, c, t: make_estimator(s, c, job_description="x" * 257)),
    ("user command without image", "user_command", lambda s, c, t: make_estimator(s, c, user_command="python train.py")),
    ("image ref with spaces", "user_image_url", lambda s, c, t: make_estimator(s, c, user_image_url="my image:latest", user_command="run")),
    ("image with framework", "framework_type", lambda s, c, t: make_estimator(s, c, user_image_url="swr.example.com/org/img:1", user_command="run", framework_type="PyTorch")),
    ("image without command or boot file", "user_command", lambda s, c, t: make_estimator(s, c, user_image_url="swr.example.com/org/img:1", boot_file=_DROP, code_dir=_DROP)),
    ("environment wrong type", "environment", lambda s, c, t: make_estimator(s, c, environment="tensorflow_mlp_mnist")),
    ("unknown keyword suggests", "train_instance_typ", lambda s, c, t: make_estimator(s, c, train_instance_typ="local")),
    ("local-only backend online", "backend", lambda s, c, t: make_estimator(s, c, backend="docker", train_instance_type="modelarts.vm.cpu.2u")),
    ("container memory", "memory", lambda s, c, t: make_estimator(s, c, container_options=ContainerOptions(memory="lots"))),
    ("container network", "network_mode", lambda s, c, t: make_estimator(s, c, container_options=ContainerOptions(network_mode="overlay"))),
    ("container user", "user", lambda s, c, t: make_estimator(s, c, container_options=ContainerOptions(user="ma-user"))),
]

FIT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("job name too long", "job_name", {"job_name": "j" * 65}),
    ("job name bad chars", "job_name", {"job_name": "my job!"}),
    ("job name not str", "job_name", {"job_name": 42}),
    ("dataset id alone", "dataset_version_id", {"dataset_id": "ds-1"}),
    ("dataset version alone", "dataset_id", {"dataset_version_id": "v1"}),
    ("inputs and dataset", "dataset_id", {"inputs": "IN", "dataset_id": "ds-1", "dataset_version_id": "v1"}),
    ("dataset locally", "dataset_id", {"dataset_id": "ds-1", "dataset_version_id": "v1"}),
    ("data source locally", "data_source", {"data_source": {"obs_url": "obs://b/x"}}),
    ("inputs missing on disk", "inputs", {"inputs": "/nonexistent/data"}),
    ("inputs obs locally", "inputs", {"inputs": "obs://bucket/data/"}),
    ("wait not bool", "wait", {"wait": "yes"}),
    ("unknown keyword suggests", "job_nme", {"job_nme": "x"}),
]

ENV_CASES: list[tuple[str, str, Callable[[], Any]]] = [
    ("env name missing", "name", lambda: Environment(None)),  # type: ignore[arg-type]
    ("env name with spaces", "name", lambda: Environment("my env")),
    ("env conda wrong type", "conda", lambda: Environment("e", conda={"pip_packages": ["x"]})),  # type: ignore[arg-type]
    ("channels a str", "channels", lambda: CondaDependencies.create(channels="conda-forge")),
    ("pip packages a str", "pip_packages", lambda: CondaDependencies.create(pip_packages="numpy")),
    ("conda packages with non-str", "conda_packages", lambda: CondaDependencies.create(conda_packages=["python=3.11", 3])),
    ("pip package empty", "pip_packages", lambda: CondaDependencies.create(pip_packages=[""])),
]


@pytest.fixture
def no_process_started():
    """Fails the test if any child process was started while it ran. What a process that was there before starts
    is not the test's doing: an earlier job's standby holder runs `ip` and `mount` while it makes its network."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    started = []
    for proc in me.children(recursive=True):
        if proc.pid in before:
            continue
        try:
            lineage = {parent.pid for parent in proc.parents()}
        except psutil.NoSuchProcess:  # gone already: one of the holder's short-lived commands
            continue
        if not lineage & before:
            started.append(proc.pid)
    assert not started, f"processes were started: {started}"


@pytest.mark.parametrize("name,parameter,call", ESTIMATOR_CASES, ids=[c[0] for c in ESTIMATOR_CASES])
def test_estimator_rejects(name, parameter, call, sdk_session, code_dir, tmp_path, no_process_started):
    with pytest.raises(ParameterError) as excinfo:
        call(sdk_session, code_dir, tmp_path)
    assert excinfo.value.parameter == parameter
    assert f"{parameter}=" in str(excinfo.value) or repr(parameter) in str(excinfo.value)
    assert not sdk_session.local_root.exists(), "validation must not create a sandbox"


@pytest.mark.parametrize("name,parameter,kwargs", FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_fit_rejects(name, parameter, kwargs, sdk_session, code_dir, tmp_path, no_process_started):
    estimator = make_estimator(sdk_session, code_dir)
    kwargs = {k: (str(tmp_path) if v == "IN" else v) for k, v in kwargs.items()}
    with pytest.raises(ParameterError) as excinfo:
        estimator.fit(**kwargs)
    assert excinfo.value.parameter == parameter
    assert parameter in str(excinfo.value)
    assert not sdk_session.local_root.exists(), "validation must not create a sandbox"


@pytest.mark.parametrize("name,parameter,call", ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_environment_tables_reject(name, parameter, call, no_process_started):
    with pytest.raises(ParameterError) as excinfo:
        call()
    assert excinfo.value.parameter == parameter
    assert parameter in str(excinfo.value)


def test_unknown_keyword_suggests_the_close_name(sdk_session, code_dir):
    with pytest.raises(ParameterError, match=r"did you mean 'train_instance_type'"):
        make_estimator(sdk_session, code_dir, train_instance_typ="local")


def test_message_names_value_and_what_is_allowed(sdk_session, code_dir):
    with pytest.raises(ParameterError) as excinfo:
        make_estimator(sdk_session, code_dir, train_instance_count=0)
    assert str(excinfo.value) == "Estimator(train_instance_count=0): must be an int >= 1"


def test_online_needs_output_path_and_data(sdk_session, code_dir):
    online = make_estimator(sdk_session, code_dir, train_instance_type="modelarts.vm.cpu.2u")
    with pytest.raises(ParameterError) as excinfo:
        online.fit(inputs="obs://bucket/data/")
    assert excinfo.value.parameter == "output_path"
    with_output = make_estimator(sdk_session, code_dir, train_instance_type="modelarts.vm.cpu.2u", output_path="obs://bucket/out/")
    with pytest.raises(ParameterError) as excinfo:
        with_output.fit()
    assert excinfo.value.parameter == "inputs"


def test_boot_file_may_be_given_as_absolute_path_inside_code_dir(sdk_session, code_dir):
    estimator = make_estimator(sdk_session, code_dir, boot_file=str(code_dir / "train.py"))
    assert estimator.config.boot_file == "train.py"


def test_code_dir_over_the_file_limit_is_refused(sdk_session, tmp_path):
    code = tmp_path / "big"
    code.mkdir()
    (code / "train.py").write_text("")
    for i in range(1000):
        (code / f"f{i}.txt").write_text("")
    with pytest.raises(ParameterError, match="more than 1000 files and folders"):
        make_estimator(sdk_session, code)


def test_the_code_dir_limit_counts_folders_and_depth_as_documented(sdk_session, tmp_path):
    """"The total number of both files and folders cannot exceed 1,000"; "the folder depth cannot exceed 32"."""
    code = tmp_path / "folders"
    code.mkdir()
    (code / "train.py").write_text("")
    for i in range(600):  # 600 folders of one file each: 1,201 entries, though only 601 files
        (code / f"d{i}").mkdir()
        (code / f"d{i}" / "x.txt").write_text("")
    with pytest.raises(ParameterError, match="more than 1000 files and folders"):
        make_estimator(sdk_session, code)
    deep = tmp_path / "deep"
    (deep / Path(*[f"l{i}" for i in range(32)])).mkdir(parents=True)
    (deep / "train.py").write_text("")
    (deep / Path(*[f"l{i}" for i in range(32)]) / "leaf.txt").write_text("")  # depth 33
    with pytest.raises(ParameterError, match="is 33 levels deep, over the ModelArts limit of 32"):
        make_estimator(sdk_session, deep)


def test_credentials_never_in_repr(monkeypatch):
    session = Session(access_key="AKEXAMPLE123", secret_key="very-secret-sk", project_id="p1")
    assert "very-secret-sk" not in repr(session)
    assert "very-secret-sk" not in repr(session.credentials)
    assert "very-secret-sk" not in str(session.credentials.secret_key)
    assert session.credentials.secret_key.reveal() == "very-secret-sk"


def test_credentials_from_environment(monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "AKENV")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sk-env")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", "proj")
    session = Session()
    assert session.credentials is not None
    assert session.credentials.access_key == "AKENV"
    assert session.project_id == "proj"


def test_half_credentials_are_refused(monkeypatch):
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK", raising=False)
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK", raising=False)
    with pytest.raises(ParameterError) as excinfo:
        Session(access_key="AK-only")
    assert excinfo.value.parameter == "secret_key"


@pytest.mark.parametrize("form", ["root", "bucket"])
def test_a_local_obs_folder_that_is_a_file_is_refused(tmp_path: Path, form: str) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("")
    (tmp_path / "obs").write_text("not a folder")
    obs = LocalObs.parse(str(tmp_path / "obs")) if form == "root" else LocalObs.parse({"my-bucket": str(tmp_path / "obs")})
    with pytest.raises(ParameterError, match=r"obs_root.*is a file: give a folder whose sub-folders are buckets"):
        JobConfig.template(code_dir=str(code), boot_file="train.py", train_instance_type="local", train_instance_count=1,
                           local_obs=obs)
