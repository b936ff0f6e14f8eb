"""The environment CLI a CI needs: `env lock SPEC` (no build; `--mode=check` fails on a stale lock), `env build`
of an environment file or a lock, `env list` with name, python, size and last use."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_modelarts.cli import main as cli_main
from pytest_modelarts.envs.cache import EnvCache
from pytest_modelarts.envs.lock import read_lock
from pytest_modelarts.pytest_plugin.marker import build_spec
from tests.support.conda_channel import LocalChannel


def write_spec(path: Path, channel: LocalChannel, *conda: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    deps = "".join(f"  - {c}\n" for c in ("python=3.11", *conda))
    path.write_text(f"name: digits\nchannels: [{channel.url}]\ndependencies:\n{deps}  - pip:\n    - six==1.16.0\n")
    return path


def test_env_lock_writes_the_plugins_lock_without_building_and_check_fails_on_a_changed_spec(
        conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "envs" / "digits.yml", conda_channel, "mini-tool")
    assert cli_main(["env", "lock", str(spec), f"--cache-dir={cache_dir}"]) == 0
    out = capsys.readouterr().out.splitlines()
    lock = tmp_path / "envs" / "digits.conda-lock.yml"
    # the very file the plugin reads for a test marked environment="envs/digits.yml"
    assert build_spec({"environment": "envs/digits.yml"}, tmp_path).environment.lock_file == lock
    assert out[0] == str(lock)
    locked = read_lock(lock)
    assert locked is not None and {p.name for p in locked.packages} >= {"python", "mini-tool", "six"}
    assert out[1] == (f"digits: {len(locked.packages)} packages ({len(locked.conda)} conda, 1 pip), "
                      f"python {conda_channel.python_version} (conda), {locked.platform}; written")
    cache = EnvCache(cache_dir)
    assert cache.builds() == [] and not (cache.envs.is_dir() and any(cache.envs.iterdir()))  # nothing was built

    assert cli_main(["env", "lock", str(spec), "--mode=check", f"--cache-dir={cache_dir}"]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("; up to date")
    before = lock.read_bytes()
    write_spec(spec, conda_channel, "mini-tool", "minipy")
    assert cli_main(["env", "lock", str(spec), "--mode=check", f"--cache-dir={cache_dir}"]) == 1
    err = capsys.readouterr().err
    assert "lock_mode=check" in err and "is stale" in err and "minipy" in err
    assert lock.read_bytes() == before  # check writes nothing
    assert cli_main(["env", "lock", str(spec), f"--cache-dir={cache_dir}"]) == 0  # create re-locks a stale lock
    assert "minipy" in {p.name for p in read_lock(lock).packages}  # type: ignore[union-attr]


def test_env_build_takes_a_spec_or_its_lock_and_env_list_shows_it(
        conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "digits.yml", conda_channel)
    assert cli_main(["env", "build", str(spec), f"--cache-dir={cache_dir}"]) == 0
    prefix = Path(capsys.readouterr().out.split()[-1])
    assert (prefix / "bin" / "python").exists()
    lock = tmp_path / "digits.conda-lock.yml"
    assert read_lock(lock) is not None  # locked first, where the plugin would
    assert [b["name"] for b in EnvCache(cache_dir).builds()] == ["digits"]
    assert cli_main(["env", "build", str(lock), f"--cache-dir={cache_dir}"]) == 0  # the lock: the same, cached
    assert capsys.readouterr().out.split()[-1] == str(prefix)
    assert len(EnvCache(cache_dir).builds()) == 1

    assert cli_main(["env", "list", f"--cache-dir={cache_dir}"]) == 0
    header, row, *rest = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "PYTHON", "SIZE", "LAST", "USE", "KEY", "PREFIX"] and rest == []
    name, python, size, unit, *when, key, path = row.split()
    assert (name, python, path) == ("digits", conda_channel.python_version, str(prefix))
    assert float(size) > 0 and unit in ("KiB", "MiB", "GiB") and " ".join(when) == "just now" and prefix.name.startswith(key)
    assert cli_main(["env", "list", f"--cache-dir={tmp_path / 'empty'}"]) == 0
    assert capsys.readouterr().out.startswith("no environments in ")


def test_env_lock_and_build_refuse_what_they_cannot_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bare.toml").write_text('name = "bare"\n')
    assert cli_main(["env", "lock", str(tmp_path / "bare.toml")]) == 2
    assert "has no packages" in capsys.readouterr().err
    (tmp_path / "typo.yml").write_text("name: x\npip_pkgs: [six]\n")
    assert cli_main(["env", "build", str(tmp_path / "typo.yml")]) == 1
    assert "typo.yml: unknown key 'pip_pkgs'" in capsys.readouterr().err  # read as an environment file, never "delete it"
    assert cli_main(["env", "lock", str(tmp_path / "nope.yml")]) == 2
    assert "nope.yml: no such file" in capsys.readouterr().err
