"""The PyPI package named ``moxing`` is not ModelArts' MoXing: asked for anywhere, it is refused before any work,
so it is never locked, installed, or sent online."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts import CondaDependencies, ConfigurationError, Environment, Estimator, ParameterError, Session
from pytest_modelarts.pytest_plugin.documents import load_environment_file

WHY = "the PyPI package named 'moxing' is an unrelated project, not ModelArts' MoXing; ModelArts provides moxing"


@pytest.mark.parametrize("item", ["moxing", "MoXing==1.0.0", "moxing[all] >= 0.1", "moxing @ https://example.invalid/moxing.whl"])
def test_pip_packages_naming_moxing_are_refused(item: str) -> None:
    with pytest.raises(ParameterError) as raised:
        CondaDependencies.create(pip_packages=["numpy==1.26.4", item])
    message = str(raised.value)
    assert message.startswith("CondaDependencies.create(pip_packages=") and WHY in message and repr(item) in message


@pytest.mark.parametrize("item", ["moxing", "moxing=1.0", "conda-forge::moxing"])
def test_conda_packages_naming_moxing_are_refused(item: str) -> None:
    with pytest.raises(ParameterError) as raised:
        CondaDependencies.create(conda_packages=["python=3.11", item])
    message = str(raised.value)
    assert message.startswith("CondaDependencies.create(conda_packages=") and repr(item) in message
    assert "ModelArts' MoXing is in its images" in message and "remove 'moxing' from conda_packages" in message


def test_other_names_that_contain_moxing_are_not_refused() -> None:
    assert CondaDependencies.create(pip_packages=["moxing-framework", "moxingx"]).pip_packages == ("moxing-framework", "moxingx")


def test_an_environment_file_naming_moxing_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "env.yml"
    spec.write_text("name: seed\ndependencies:\n  - python=3.6\n  - pip:\n    - tensorflow==1.13.1\n    - moxing\n")
    with pytest.raises(Exception, match=r"environment file .*env\.yml.*'moxing'.*unrelated project") as raised:
        load_environment_file(spec)
    assert isinstance(raised.value, ConfigurationError)


@pytest.mark.parametrize("name", ["requirements.txt", "pip-requirements.txt"])
def test_a_code_directory_requiring_moxing_is_refused_before_anything_runs(name: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import moxing\n")
    (code / name).write_text("# what the job needs\nnumpy\nmoxing==1.0  # for OBS\n")
    session = Session(local_root=tmp_path / "root", cache_dir=tmp_path / "cache", stream_logs=False)
    estimator = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                          train_instance_count=1)
    with pytest.raises(ConfigurationError) as raised:
        estimator.fit(wait=True)
    message = str(raised.value)
    assert f"{name}, line 3 ('moxing==1.0  # for OBS')" in message and WHY in message
    assert not (tmp_path / "root" / "runs").exists() or not any((tmp_path / "root" / "runs").iterdir())


def test_a_code_directory_requiring_moxing_is_never_sent_online(modelarts_emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import moxing\n")
    (code / "requirements.txt").write_text("moxing\n")
    estimator = Estimator(modelarts_session=modelarts_emulator.session(), code_dir=str(code), boot_file="train.py",
                          train_instance_type="modelarts.vm.cpu.2u", train_instance_count=1, output_path="obs://emulator-bucket/out/")
    with pytest.raises(ConfigurationError, match="unrelated project"):
        estimator.fit(inputs="obs://emulator-bucket/data/")
    assert modelarts_emulator.jobs() == []
    assert modelarts_emulator.emulator.requests["modelarts"] == 0 and modelarts_emulator.emulator.requests["obs"] == 0


def test_an_environment_is_checked_when_made(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="unrelated project"):
        Environment("seed", conda=CondaDependencies.create(conda_packages=["python=3.6.2"], pip_packages=["moxing"]))
