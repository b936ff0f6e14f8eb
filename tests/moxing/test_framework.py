"""What ``moxing`` has beyond ``file``: the module layout users import, run parameters, ``ModeKeys``, and stand-ins
for MoXing's training framework that raise, naming the API, only when used."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest


def test_every_module_users_import_has_the_same_file(mox: ModuleType) -> None:
    modules = [importlib.import_module(f"moxing.{name}") for name in ("framework", "tensorflow", "pytorch", "mxnet")]
    assert all(m.file is mox.file for m in modules)
    import moxing.framework.file as by_path  # the documented name of the module: moxing.framework.file.File

    assert by_path is mox.file and by_path.File is mox.file.File
    from moxing.framework import file

    assert file is mox.file


def test_a_framework_module_is_imported_when_first_named(mox: ModuleType) -> None:
    sys.modules.pop("moxing.mxnet", None)
    assert mox.mxnet.file is mox.file and "moxing.mxnet" in sys.modules


def test_mode_keys_are_moxings_run_modes(mox: ModuleType) -> None:
    import moxing.tensorflow as tf_mox

    assert tf_mox.ModeKeys is mox.ModeKeys
    assert (mox.ModeKeys.TRAIN, mox.ModeKeys.EVAL, mox.ModeKeys.PREDICT, mox.ModeKeys.EXPORT) == ("TRAIN", "EVAL", "PREDICT", "EXPORT")


@pytest.mark.parametrize("api", ["run", "ModelSpec", "get_optimizer_fn", "get_model_fn", "ExportSpec", "get_tfrecord", "dist"])
def test_framework_apis_import_and_raise_when_used(mox: ModuleType, api: str) -> None:
    import moxing.tensorflow as tf_mox

    stand_in = getattr(tf_mox, api)  # naming it is fine: import time, default arguments, run_mode=...
    assert "not available in a local run" in repr(stand_in)
    with pytest.raises(mox.file.MoxUnsupportedError) as raised:
        stand_in(anything=1)
    message = str(raised.value)
    assert message.startswith(f"mox.{api} (moxing.tensorflow) is MoXing's training framework, which a local run does not have")
    assert "mox.get_flag" in message and "Run this part online" in message
    with pytest.raises(NotImplementedError, match=rf"^mox\.{api}\.init_process_group \(moxing\.tensorflow\)"):
        stand_in.init_process_group  # noqa: B018
    assert not hasattr(stand_in, "__wrapped__")  # introspection sees an ordinary object


def test_flags_are_set_or_read_from_the_command_line(mox: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "--data_url=/d", "--num_gpus=2", "--worker_hosts", "a:1,b:2"])
    assert mox.get_flag("num_gpus") == "2" and mox.get_flag(flag_name="worker_hosts") == "a:1,b:2"
    mox.set_flag("num_gpus", 1)
    assert mox.get_flag("num_gpus") == 1
    import moxing.tensorflow as tf_mox

    assert tf_mox.get_flag("num_gpus") == 1  # one set of flags, whichever module sets them
    with pytest.raises(mox.file.MoxUnsupportedError, match=r"mox\.get_flag\('loss_scale'\).*mox\.set_flag\('loss_scale', value\).*--loss_scale=value"):
        mox.get_flag("loss_scale")
    with pytest.raises(TypeError, match="flag's name"):
        mox.get_flag()


def test_hyper_parameters_are_set_read_from_the_command_line_or_defaulted(mox: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    import moxing.mxnet as mx_mox

    monkeypatch.setattr(sys, "argv", ["train.py", "--lr=0.1"])
    assert mx_mox.get_hyper_parameter("lr") == "0.1"
    assert mx_mox.get_hyper_parameter("num_gpus") is None and mx_mox.get_hyper_parameter("worker_id", 0) == 0
    mx_mox.set_hyper_parameter("data_url", "/cache/data")
    assert mox.get_hyper_parameter("data_url") == "/cache/data"


def test_other_names_are_named_when_read(mox: ModuleType) -> None:
    import moxing.pytorch as pt_mox

    with pytest.raises(mox.file.MoxUnsupportedError, match=r"^mox\.get_tensor is not supported by the local moxing.*mox\.file"):
        pt_mox.get_tensor  # noqa: B018
    with pytest.raises(AttributeError) as plain:
        pt_mox._private  # noqa: B018
    assert not isinstance(plain.value, NotImplementedError)
