"""What goes wrong, and what the local moxing says then: unknown buckets, unsupported calls, the wrong kind of path."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ENV_VARIABLE, Place

HOW_TO = ("Session(obs_root=...)", "modelarts_obs_root", "marker's obs_root")


def test_an_unknown_bucket_is_named_with_how_to_configure(mox: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VARIABLE, json.dumps({"root": None, "buckets": {"known-bkt": str(tmp_path)}}))
    assert not mox.file.exists("obs://other-bkt/data/x.csv")  # OBS answers no for a bucket it does not have
    assert not mox.file.is_directory("obs://other-bkt/data")
    with pytest.raises(mox.file.MoxLocalObsException) as raised:
        mox.file.read("obs://other-bkt/data/x.csv")
    message = str(raised.value)
    assert "'other-bkt'" in message and "known-bkt" in message and all(part in message for part in HOW_TO)
    assert isinstance(raised.value, mox.file.MoxFileRespException) and isinstance(raised.value, OSError)
    assert mox.file.exists("obs://known-bkt/")  # the mapped one is there


def test_with_a_root_a_bucket_must_have_a_valid_name(mox: ModuleType, obs_root: Path) -> None:
    with pytest.raises(mox.file.MoxLocalObsException, match="'Bad_Bucket'"):
        mox.file.read("s3://Bad_Bucket/x")


def test_no_local_obs_at_all(mox: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    with pytest.raises(mox.file.MoxLocalObsException, match=f"'my-bucket'.*{ENV_VARIABLE} is not set.*Session\\(obs_root=") as raised:
        mox.file.copy_parallel("obs://my-bucket/data", str(tmp_path / "cache"))
    assert all(part in str(raised.value) for part in HOW_TO)
    mox.file.write(str(tmp_path / "local.txt"), "local paths need no OBS")
    assert mox.file.read(str(tmp_path / "local.txt")) == "local paths need no OBS"


@pytest.mark.parametrize("value", ["{not json", "[1]", '{"root": 3}', '{"buckets": {"b": 3}}'])
def test_a_malformed_local_obs_says_so(mox: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV_VARIABLE, value)
    with pytest.raises(mox.file.MoxLocalObsException, match=f"{ENV_VARIABLE} is malformed"):
        mox.file.exists("obs://my-bucket/x")


@pytest.mark.parametrize("url", ["obs://", "obs:///key", "s3://my-bucket/a/../../escape"])
def test_urls_without_a_bucket_or_leaving_it(mox: ModuleType, obs_root: Path, url: str) -> None:
    with pytest.raises(ValueError):
        mox.file.exists(url)


def test_an_unsupported_call_is_named(mox: ModuleType) -> None:
    with pytest.raises(mox.file.MoxUnsupportedError) as raised:
        mox.file.copy_dir("obs://b/x", "obs://b/y")
    message = str(raised.value)
    assert message.startswith("mox.file.copy_dir is not supported by the local moxing")
    assert "mox.file.copy_parallel" in message and "python -m pydoc moxing.file" in message
    assert isinstance(raised.value, AttributeError) and isinstance(raised.value, NotImplementedError)
    assert not hasattr(mox.file, "get_flag")
    with pytest.raises(NotImplementedError, match=r"^mox\.get_tensor is not supported.*mox\.file, mox\.ModeKeys, mox\.get_flag"):
        mox.get_tensor  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute '_private'") as plain:
        mox.file._private  # noqa: B018
    assert not isinstance(plain.value, NotImplementedError)


def test_copy_of_a_directory_says_copy_parallel(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=r"single file.*use mox\.file\.copy_parallel"):
        mox.file.copy(tree.url("sub"), str(tmp_path / "x"))
    with pytest.raises(NotADirectoryError, match=r"copies a directory.*use mox\.file\.copy "):
        mox.file.copy_parallel(tree.url("a.txt"), str(tmp_path / "x"))
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.copy_parallel(tree.url("nope"), str(tmp_path / "x"))


def test_stat_of_a_missing_file(mox: ModuleType, place: Place) -> None:
    with pytest.raises(mox.file.MoxFileNotExistsException) as raised:
        mox.file.stat(place.url("missing.txt"))
    assert place.url("missing.txt") in str(raised.value) and isinstance(raised.value, FileNotFoundError)
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.read(place.url("missing.txt"))


def test_copy_parallel_name_clash_copies_nothing(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "sub").write_text("a file where the source has a directory")
    with pytest.raises(mox.file.MoxFileNameDuplicateException, match="sub") as raised:
        mox.file.copy_parallel(tree.url(), str(dst))
    assert isinstance(raised.value, FileExistsError)
    assert sorted(p.name for p in dst.iterdir()) == ["sub"]
    (dst / "sub").unlink()
    (dst / "a.txt").mkdir()
    with pytest.raises(mox.file.MoxFileNameDuplicateException, match="a.txt"):
        mox.file.copy_parallel(tree.url(), str(dst))
    (tmp_path / "plain").write_text("")
    with pytest.raises(mox.file.MoxFileNameDuplicateException):
        mox.file.copy_parallel(tree.url(), str(tmp_path / "plain"))


@pytest.mark.parametrize("place", ["obs", "s3", "mapped-bucket"], indirect=True)
def test_remove_follows_the_obs_semantics_on_obs(mox: ModuleType, tree: Place) -> None:
    """MoXing's API doc: a directory without recursive, and a file named with a trailing '/', are nothing to do."""
    mox.file.remove(tree.url("sub"))
    mox.file.remove(tree.url("sub/"))
    assert tree.path("sub/b.bin").exists()
    mox.file.remove(tree.url("a.txt/"))
    mox.file.remove(tree.url("a.txt/"), recursive=True)
    assert tree.path("a.txt").exists()
    mox.file.remove(tree.url("never-there"))  # deleting a missing key succeeds on OBS
    mox.file.remove(tree.url("a.txt"), recursive=True)
    assert not tree.path("a.txt").exists()
    mox.file.remove(tree.url("sub/"), recursive=True)
    assert not tree.path("sub").exists()


def test_remove_of_a_whole_bucket_keeps_the_bucket(mox: ModuleType, obs_root: Path) -> None:
    mox.file.write("obs://whole-bkt/a/b.txt", "x")
    mox.file.remove("obs://whole-bkt", recursive=True)
    assert (obs_root / "whole-bkt").is_dir() and not any((obs_root / "whole-bkt").iterdir())


def test_remove_of_a_local_path(mox: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(IsADirectoryError):
        mox.file.remove(str(tmp_path / "d"))
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.remove(str(tmp_path / "nope"))
    mox.file.remove(str(tmp_path / "f.txt"))
    mox.file.remove(str(tmp_path / "d"), recursive=True)
    assert list(tmp_path.iterdir()) == []


def test_shift_takes_os_and_mox_only(mox: ModuleType) -> None:
    with pytest.raises(ValueError, match="'os' to 'mox'"):
        mox.file.shift("os", "tf")
