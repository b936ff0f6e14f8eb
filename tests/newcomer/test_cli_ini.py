"""`pytest-modelarts env lock|build` take what they are not given from the project's pytest configuration, the file
pytest itself would read, so that they lock and build exactly what `pytest --modelarts` runs; `--version`."""

from __future__ import annotations

from pathlib import Path

import pytest

import pytest_modelarts
from pytest_modelarts.cli import main as cli_main
from pytest_modelarts.cli import project_ini
from pytest_modelarts.envs.lock import read_lock

ENV = 'name = "ini-env"\nconda_packages = ["python=3.11"]\n'


def project(tmp_path: Path, config_name: str, text: str) -> Path:
    (tmp_path / config_name).write_text(text)
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "ini-env.toml").write_text(ENV)
    return envs / "ini-env.toml"


@pytest.mark.parametrize("config_name, text", [
    ("pyproject.toml", '[tool.pytest.ini_options]\nmodelarts_python_source = "local"\nmodelarts_cache_dir = "cache"\n'),
    ("tox.ini", "[tox]\nenv_list = x\n\n[pytest]\nmodelarts_python_source = local\nmodelarts_cache_dir = cache\n"),
    ("pytest.ini", "[pytest]\nmodelarts_python_source = local\nmodelarts_cache_dir = cache\n"),
])
def test_env_lock_and_build_use_the_projects_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], config_name: str, text: str) -> None:
    monkeypatch.delenv("PYTEST_MODELARTS_PYTHON", raising=False)
    monkeypatch.chdir(tmp_path)
    spec = project(tmp_path, config_name, text)
    assert cli_main(["env", "lock", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert f"from {tmp_path / config_name}: modelarts_python_source=local, modelarts_cache_dir={tmp_path / 'cache'}" in err
    locked = read_lock(tmp_path / "envs" / "ini-env.conda-lock.yml")
    assert locked is not None and locked.python_source == "local"  # as the plugin locks it, not from a conda channel
    assert out.splitlines()[1].endswith("; written")

    assert cli_main(["env", "build", str(spec)]) == 0
    prefix = Path(capsys.readouterr().out.split()[-1])
    assert prefix.is_relative_to(tmp_path / "cache") and (prefix / "bin" / "python").exists()


def test_an_option_given_wins_over_the_ini(tmp_path: Path) -> None:
    spec = project(tmp_path, "pytest.ini", "[pytest]\nmodelarts_python_source = local\nmodelarts_lock_mode = check\n")
    found = project_ini(spec.parent)
    assert found == (tmp_path / "pytest.ini", {"modelarts_python_source": "local", "modelarts_lock_mode": "check"})
    # check mode from the ini: no lock yet is an error, nothing written
    assert cli_main(["env", "lock", str(spec)]) == 1
    assert not (tmp_path / "envs" / "ini-env.conda-lock.yml").exists()
    assert cli_main(["env", "lock", str(spec), "--mode=create", f"--cache-dir={tmp_path / 'c'}"]) == 0


def test_a_pyproject_without_pytest_settings_is_passed_over_as_pytest_does(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nmodelarts_python_source = local\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (sub / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert project_ini(sub) == (tmp_path / "pytest.ini", {"modelarts_python_source": "local"})


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"pytest-modelarts {pytest_modelarts.__version__}"
