"""Every ``mox.file`` call on a local path, obs:// and s3:// URLs, and a mapped bucket: what lands where."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import Place


def test_the_module_is_reachable_as_mox_file(mox: ModuleType) -> None:
    import moxing.file

    assert mox.file is moxing.file
    assert mox.__version__
    assert "copy_parallel" in mox.file.__all__


def test_write_read_append(mox: ModuleType, place: Place) -> None:
    mox.file.write(place.url("t.txt"), "héllo\n")
    mox.file.append(place.url("t.txt"), "world")
    assert place.path("t.txt").read_text(encoding="utf-8") == "héllo\nworld"
    assert mox.file.read(place.url("t.txt")) == "héllo\nworld"
    mox.file.write(place.url("b.bin"), b"\x00\xff", binary=True)
    mox.file.append(place.url("b.bin"), b"\x01", binary=True)
    assert mox.file.read(place.url("b.bin"), binary=True) == b"\x00\xff\x01"
    mox.file.write(place.url("t.txt"), "over")
    assert place.path("t.txt").read_text() == "over"


def test_writing_to_obs_needs_no_folders_a_local_path_does(mox: ModuleType, place: Place) -> None:
    if place.remote:
        mox.file.write(place.url("new/deep/r.txt"), "x")
        assert place.path("new/deep/r.txt").read_text() == "x"
    else:
        with pytest.raises(FileNotFoundError):
            mox.file.write(place.url("new/deep/r.txt"), "x")


def test_exists_and_is_directory(mox: ModuleType, tree: Place) -> None:
    assert mox.file.exists(tree.url("a.txt")) and mox.file.exists(tree.url("sub")) and mox.file.exists(tree.url("sub/"))
    assert not mox.file.exists(tree.url("nope")) and not mox.file.exists(tree.url("a.txt/"))
    assert mox.file.is_directory(tree.url("sub")) and mox.file.is_directory(tree.url())
    assert not mox.file.is_directory(tree.url("a.txt")) and not mox.file.is_directory(tree.url("nope"))


def test_make_dirs_and_mk_dir(mox: ModuleType, place: Place) -> None:
    mox.file.make_dirs(place.url("x/y/z"))
    mox.file.make_dirs(place.url("x/y/z"))  # again: fine
    assert place.path("x/y/z").is_dir()
    mox.file.mk_dir(place.url("x/one"))
    mox.file.mk_dir(place.url("x/one"))
    assert place.path("x/one").is_dir()
    with pytest.raises(OSError, match="parent directory"):
        mox.file.mk_dir(place.url("missing/child"))


def test_list_directory(mox: ModuleType, tree: Place) -> None:
    assert mox.file.list_directory(tree.url()) == ["a.txt", "empty", "sub"]
    assert mox.file.list_directory(tree.url("sub/")) == ["b.bin", "deep"]
    everything = ["a.txt", "empty", "sub", "sub/b.bin", "sub/deep", "sub/deep/c.txt"]
    assert mox.file.list_directory(tree.url(), recursive=True) == everything
    assert mox.file.list_directory(tree.url(), recursive=True, remove_sep=True) == everything
    assert mox.file.list_directory(tree.url(), recursive=True, skip_dir=True) == ["a.txt", "sub/b.bin", "sub/deep/c.txt"]
    assert mox.file.list_directory(tree.url(), recursive=True, skip_file=True) == ["empty", "sub", "sub/deep"]
    assert mox.file.list_directory(tree.url(), skip_file=True) == ["empty", "sub"]
    assert mox.file.list_directory(tree.url(), skip_dir=True) == ["a.txt"]
    assert mox.file.list_directory(tree.url(), skip_dir=True, skip_file=True) == []
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.list_directory(tree.url("nope"))


@pytest.mark.parametrize("place", ["obs", "local"], indirect=True)
def test_list_directory_as_huaweis_sample_shows(mox: ModuleType, place: Place) -> None:
    """Huawei's "Sample Code for Common Operations" (modelarts_11_0005): object_dir holding dir0/file00 and file1."""
    place.path("object_dir/dir0").mkdir(parents=True)
    place.path("object_dir/dir0/file00").write_text("0")
    place.path("object_dir/file1").write_text("1")
    assert mox.file.list_directory(place.url("object_dir")) == ["dir0", "file1"]
    assert mox.file.list_directory(place.url("object_dir"), recursive=True) == ["dir0", "dir0/file00", "file1"]


def test_append_remote(mox: ModuleType, place: Place) -> None:
    mox.file.write(place.url("one.bin"), b"head-")
    mox.file.write(place.url("two.bin"), b"tail")
    mox.file.append_remote(place.url("two.bin"), place.url("one.bin"))
    assert place.path("one.bin").read_bytes() == b"head-tail" and place.path("two.bin").read_bytes() == b"tail"
    mox.file.append_remote(place.url("two.bin"), place.url("three.bin"))
    assert place.path("three.bin").read_bytes() == b"tail"


def test_glob_gives_absolute_paths_or_urls(mox: ModuleType, tree: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    assert mox.file.glob(tree.url("*.txt")) == [tree.url("a.txt")]
    assert mox.file.glob(tree.url("sub/*")) == [tree.url("sub/b.bin"), tree.url("sub/deep")]
    assert mox.file.glob(tree.url("*/deep/*.txt")) == [tree.url("sub/deep/c.txt")]
    assert mox.file.glob(tree.url("*.none")) == []
    if not tree.remote:
        monkeypatch.chdir(tree.folder)
        assert mox.file.glob("sub/*.bin") == [str(tree.path("sub/b.bin"))]


def test_stat(mox: ModuleType, tree: Place) -> None:
    found = mox.file.stat(tree.url("sub/deep/c.txt"))
    assert (found.length, found.is_directory, found.st_size) == (6, False, 6)
    assert found.mtime_nsec == tree.path("sub/deep/c.txt").stat().st_mtime_ns
    assert abs(found.st_mtime - time.time()) < 600
    folder = mox.file.stat(tree.url("sub"))
    assert folder.is_directory and folder.length == 0
    with pytest.raises(mox.file.MoxFileNotExistsException, match="nope"):
        mox.file.stat(tree.url("nope"))


def test_get_size(mox: ModuleType, tree: Place) -> None:
    assert mox.file.get_size(tree.url("a.txt")) == 5
    assert mox.file.get_size(tree.url(), recursive=True) == 5 + 3 + 6
    # without recursive: a local directory still counts everything, an OBS one only its own files (docs/moxing.md)
    assert mox.file.get_size(tree.url()) == (5 if tree.remote else 14)
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.get_size(tree.url("nope"))


def test_walk(mox: ModuleType, tree: Place) -> None:
    steps = [(top, sorted(dirs), sorted(files)) for top, dirs, files in mox.file.walk(tree.url())]
    assert sorted(steps) == sorted([
        (tree.url(), ["empty", "sub"], ["a.txt"]),
        (tree.url("empty"), [], []),
        (tree.url("sub"), ["deep"], ["b.bin"]),
        (tree.url("sub/deep"), [], ["c.txt"]),
    ])
    pruned = []
    for top, dirs, _files in mox.file.walk(tree.url()):
        pruned.append(top)
        dirs[:] = [d for d in dirs if d != "sub"]
    assert sorted(pruned) == [tree.url(), tree.url("empty")]
    bottom_up = [top for top, _, _ in mox.file.walk(tree.url(), topdown=False)]
    assert bottom_up.index(tree.url("sub/deep")) < bottom_up.index(tree.url("sub")) < bottom_up.index(tree.url())
    assert list(mox.file.walk(tree.url("nope"))) == []


def test_scan_dir(mox: ModuleType, tree: Place) -> None:
    with mox.file.scan_dir(tree.url("sub")) as entries:
        found = sorted((e.name, os.fspath(e.path), e.is_dir(), e.is_file()) for e in entries)
    assert found == [("b.bin", tree.url("sub/b.bin"), False, True), ("deep", tree.url("sub/deep"), True, False)]
    assert sorted(e.name for e in mox.file.scan_dir(tree.url())) == ["a.txt", "empty", "sub"]
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.scan_dir(tree.url("nope"))


def test_rename(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    mox.file.rename(tree.url("a.txt"), tree.url("moved/a2.txt") if tree.remote else tree.url("a2.txt"))
    moved = tree.path("moved/a2.txt") if tree.remote else tree.path("a2.txt")
    assert moved.read_text() == "alpha" and not tree.path("a.txt").exists()
    mox.file.rename(tree.url("sub"), tree.url("sub2"))
    assert tree.path("sub2/deep/c.txt").read_text() == "gamma!" and not tree.path("sub").exists()
    # between the local OBS and a local path, both ways
    mox.file.rename(tree.url("sub2"), str(tmp_path / "out-local"))
    assert (tmp_path / "out-local" / "b.bin").read_bytes() == b"\x00\x01\x02"
    mox.file.rename(str(tmp_path / "out-local"), tree.url("back"))
    assert tree.path("back/deep/c.txt").exists()
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.rename(tree.url("nope"), tree.url("x"))


def test_copy_a_file(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    mox.file.copy(tree.url("sub/b.bin"), str(tmp_path / "cache" / "b.bin"))  # the local folders are made
    assert (tmp_path / "cache" / "b.bin").read_bytes() == b"\x00\x01\x02"
    mox.file.copy(str(tmp_path / "cache" / "b.bin"), tree.url("up/b.bin"))
    assert tree.path("up/b.bin").read_bytes() == b"\x00\x01\x02"
    mox.file.copy(tree.url("a.txt"), tree.url("a-copy.txt"))
    assert tree.path("a-copy.txt").read_text() == "alpha" and tree.path("a.txt").exists()
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.copy(tree.url("nope"), str(tmp_path / "x"))
    with pytest.raises(IsADirectoryError, match="destination"):
        mox.file.copy(tree.url("a.txt"), tree.url("sub"))


def test_copy_parallel_merges_a_tree(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    dst = tmp_path / "cache" / "data"
    (dst / "sub").mkdir(parents=True)
    (dst / "kept.txt").write_text("mine")
    (dst / "a.txt").write_text("old")
    mox.file.copy_parallel(tree.url(), str(dst))
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*")) == [
        "a.txt", "empty", "kept.txt", "sub", "sub/b.bin", "sub/deep", "sub/deep/c.txt"]
    assert (dst / "a.txt").read_text() == "alpha" and (dst / "kept.txt").read_text() == "mine"
    # and back up, one thread
    mox.file.copy_parallel(str(dst), tree.url("copy"), threads=1)
    assert tree.path("copy/sub/deep/c.txt").read_text() == "gamma!" and tree.path("copy/kept.txt").exists()


def test_copy_parallel_with_a_file_list(mox: ModuleType, tree: Place, tmp_path: Path) -> None:
    mox.file.copy_parallel(tree.url(), str(tmp_path / "some"), file_list=["sub/deep/c.txt", "/a.txt"])
    assert sorted(str(p.relative_to(tmp_path / "some")) for p in (tmp_path / "some").rglob("*")) == [
        "a.txt", "sub", "sub/deep", "sub/deep/c.txt"]
    with pytest.raises(mox.file.MoxFileNotExistsException, match="nope.txt"):
        mox.file.copy_parallel(tree.url(), str(tmp_path / "other"), file_list=["nope.txt"])


def test_remove(mox: ModuleType, tree: Place) -> None:
    mox.file.remove(tree.url("a.txt"))
    assert not tree.path("a.txt").exists()
    mox.file.remove(tree.url("sub/b.bin"), recursive=True)  # a file, recursive or not
    assert not tree.path("sub/b.bin").exists()
    mox.file.remove(tree.url("sub"), recursive=True)
    assert not tree.path("sub").exists()
    assert tree.path("empty").exists()


def test_file_object_modes(mox: ModuleType, place: Place) -> None:
    with mox.file.File(place.url("f.txt"), "w") as f:
        assert f.writable() and not f.readable()
        f.write("one\n")
        f.writelines(["two\n", "three\n"])
        assert f.size() == 14
        assert f.name == place.url("f.txt") and f.mode == "w"
    assert f.closed
    with mox.file.File(place.url("f.txt"), "r") as f:
        assert f.readline() == "one\n"
        assert f.readlines() == ["two\n", "three\n"]
        f.seek(0)
        assert f.read(3) == "one" and f.tell() == 3 and f.seekable()
        f.seek(0)
        assert list(f) == ["one\n", "two\n", "three\n"]
    with mox.file.File(place.url("f.txt"), "a") as f:
        f.write("four\n")
    with mox.file.File(place.url("f.txt"), "r+") as f:
        f.write("ONE")
    assert place.path("f.txt").read_text() == "ONE\ntwo\nthree\nfour\n"
    with mox.file.File(place.url("f.txt"), "w+") as f:
        f.write("new")
        f.seek(0)
        assert f.read() == "new"
    with mox.file.File(place.url("f.txt"), "a+") as f:
        f.write("er")
        f.seek(0)
        assert f.read() == "newer"
    for write_mode, read_mode in [("bw", "br"), ("wb", "rb"), ("bw+", "br+"), ("wb+", "rb+"), ("ba", "r+b"), ("ab+", "ba+")]:
        with mox.file.File(place.url("f.bin"), write_mode) as f:
            f.write(b"\x00\x01")
        with mox.file.File(place.url("f.bin"), read_mode) as f:
            f.seek(0)
            assert f.read()[:2] == b"\x00\x01", (write_mode, read_mode)
    with pytest.raises(mox.file.MoxFileNotExistsException):
        mox.file.File(place.url("nope.txt"), "r")
    with pytest.raises(ValueError, match="invalid mode"):
        mox.file.File(place.url("f.txt"), "rw")


def test_set_auth_is_accepted(mox: ModuleType) -> None:
    assert mox.file.set_auth(ak="a", sk="s", server="obs.example.com", port=443, is_secure=True, retry=3) is None


def test_file_urls_are_local_paths(mox: ModuleType, tmp_path: Path) -> None:
    mox.file.write(f"file://{tmp_path}/x.txt", "x")
    assert (tmp_path / "x.txt").read_text() == "x"
    assert mox.file.exists(f"file://{tmp_path}/x.txt") and mox.file.exists(tmp_path / "x.txt")
