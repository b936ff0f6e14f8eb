"""The engine catalog: every row from Huawei's API reference, and ``framework_type``/``framework_version`` select one.

Sources: ``api-ref/source/training_management/obtaining_the_preset_ai_frameworks_supported_by_a_training_job.rst``
and the PyTorch use case of the API reference (docs/contract.md, "Preset engines").
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_modelarts import Estimator, Session
from pytest_modelarts.core import engines
from pytest_modelarts.errors import ConfigurationError, ParameterError

DOCS = ("api-ref/source/training_management/obtaining_the_preset_ai_frameworks_supported_by_a_training_job.rst",
        "api-ref/source/use_cases/using_pytorch_to_create_a_training_job_new-version_training.rst")


def test_every_row_has_its_source_and_what_the_api_lists() -> None:
    rows = engines.catalog()
    assert len({e.engine_id for e in rows}) == len(rows)
    for engine in rows:
        assert any(doc in engine.source for doc in DOCS), engine.engine_id
        assert engine.python in engine.engine_id.replace("_", "").replace("py3", "python3") or engine.python in engine.version
        assert engine.framework_version in engine.version or engine.framework_version in engine.engine_id
        item = engine.api_item()
        assert set(item) == {"engine_id", "engine_name", "engine_version", "v1_compatible", "run_user", "image_info"}
        assert set(item["image_info"]) == {"cpu_image_url", "gpu_image_url", "image_version"}


def test_the_documented_pytorch_engine_is_the_use_cases() -> None:
    pytorch = engines.find("PyTorch", "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64")
    assert (pytorch.python, pytorch.framework, pytorch.framework_version, pytorch.run_user, pytorch.v1_compatible) == \
        ("3.7", "torch", "1.8.0", 1102, False)


@pytest.mark.parametrize(("framework_type", "framework_version"), [
    ("PyTorch", None), ("pytorch", "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64"),
    ("Horovod", "0.16.2-TF-1.13.1-python3.6"), ("Horovod", "horovod-cp36-tf-1.16.2"),
])
def test_an_engine_is_selected_by_its_name_and_version_or_id(framework_type: str, framework_version: str | None) -> None:
    engine = engines.find(framework_type, framework_version)
    assert engine.name.lower() == framework_type.lower()


def test_an_unknown_engine_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"Estimator\(framework_type='Torch'\): is not a preset engine; the engines are: "
                                             r"PyTorch \(pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64\), TensorFlow"):
        Estimator(modelarts_session=Session(local_root=tmp_path), code_dir=str(tmp_path), boot_file="train.py",
                  framework_type="Torch", train_instance_type="local", train_instance_count=1)


def test_an_unknown_version_and_an_ambiguous_name_are_refused_with_the_versions(tmp_path: Path) -> None:
    common = dict(modelarts_session=Session(local_root=tmp_path), code_dir=str(tmp_path), boot_file="train.py",
                  train_instance_type="local", train_instance_count=1)
    with pytest.raises(ParameterError, match=r"framework_version='2.0'\): is not a version of the preset engine PyTorch; "
                                             r"its versions are: 'pytorch_1.8.0"):
        Estimator(framework_type="PyTorch", framework_version="2.0", **common)
    with pytest.raises(ParameterError, match=r"framework_version=None\): is required: Horovod has several versions"):
        Estimator(framework_type="Horovod", **common)


def test_an_engine_a_local_run_cannot_reproduce_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('hi')\n")
    estimator = Estimator(modelarts_session=Session(local_root=tmp_path / "root"), code_dir=str(tmp_path), boot_file="train.py",
                          framework_type="Powered-Engine", train_instance_type="local", train_instance_count=1)
    with pytest.raises(ConfigurationError, match="cannot run locally: an Ascend engine"):
        estimator.fit(wait=True)
    assert not (tmp_path / "root" / "runs").exists()


def test_the_marker_and_job_files_take_the_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=textwrap.dedent("""
        import pytest

        @pytest.mark.modelarts(code_dir="code", boot_file="train.py", framework_type="Torch")
        def test_marker(modelarts_job):
            pass
    """))
    (pytester.path / "code").mkdir()
    (pytester.path / "code" / "train.py").write_text("print('hi')\n")
    pytester.makefile(".modelarts.toml", jobs=textwrap.dedent("""
        [[job]]
        name = "from-file"
        code_dir = "code"
        boot_file = "train.py"
        framework_type = "TensorFlow"
        framework_version = "tensorflow_9"
    """))
    result = pytester.runpytest("--modelarts", "-p", "no:cacheprovider")
    out = result.stdout.str() + result.stderr.str()
    assert "framework_type='Torch'): is not a preset engine; the engines are: PyTorch" in out
    assert "framework_version='tensorflow_9'): is not a version of the preset engine TensorFlow" in out


@pytest.mark.parametrize(("contract", "user", "expected"), [
    ("v2", None, (1102, 100)),  # the engine's run_user
    ("v2", "1000:100", (1000, 100)),  # the job's own choice wins
    ("v1", None, (1000, 100)),  # old jobs ran as the session's user (work)
])
def test_the_run_user_of_an_engine_job(tmp_path: Path, contract: str, user: str | None, expected: tuple[int, int]) -> None:
    from pytest_modelarts import ContainerOptions, JobConfig
    from pytest_modelarts.core.plan import plan_job

    (tmp_path / "train.py").write_text("print('hi')\n")
    config = JobConfig.template(code_dir=str(tmp_path), boot_file="train.py", train_instance_type="local", train_instance_count=1,
                                framework_type="PyTorch", contract=contract, container=ContainerOptions(user=user)).fit(job_name="u")
    assert plan_job(config, Session(local_root=tmp_path / "root"), None, "abcd").user == expected
