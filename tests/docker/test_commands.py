"""How user_command becomes an argv: exec form unless it is shell syntax (no Docker needed)."""

from __future__ import annotations

import pytest

from pytest_modelarts.backends.docker import command_argv, is_shell_command

ENV = {"MA_JOB_DIR": "/home/ma-user/modelarts/user-job-dir", "lr": "0.1"}


@pytest.mark.parametrize("command, argv", [
    ("python ${MA_JOB_DIR}/code/train.py --lr=$lr", ["python", "/home/ma-user/modelarts/user-job-dir/code/train.py", "--lr=0.1"]),
    ("python train.py 'a b' --x=\"$UNKNOWN\"", ["python", "train.py", "a b", "--x=$UNKNOWN"]),
    ("bash -c 'echo a && echo b'", ["bash", "-c", "echo a && echo b"]),
    ("python -c 'print(\"x|y\")'", ["python", "-c", 'print("x|y")']),
])
def test_exec_form(command: str, argv: list[str]) -> None:
    assert not is_shell_command(command)
    assert command_argv(command, ENV) == argv


@pytest.mark.parametrize("command", [
    "python train.py > /cache/out.txt", "cd /cache && python train.py", "a | b", "a; b", "echo $(date)", "echo `date`",
])
def test_shell_syntax_runs_in_a_shell(command: str) -> None:
    assert is_shell_command(command)
    assert command_argv(command, ENV) == ["/bin/sh", "-c", command]
