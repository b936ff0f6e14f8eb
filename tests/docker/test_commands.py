"""How user_command becomes an argv: exec form unless it is shell syntax, the platform's arguments appended to its
last command (no Docker needed)."""

from __future__ import annotations

import pytest

from pytest_modelarts.core.commands import LastCommandError, append_arguments, command_argv, is_shell_command

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


ARGS = ["--data_url=/home/ma-user/modelarts/inputs/data_url_0", "--note=a b", "--num_gpus=0"]
QUOTED = "--data_url=/home/ma-user/modelarts/inputs/data_url_0 '--note=a b' --num_gpus=0"


def test_exec_form_gets_the_platform_arguments_at_the_end_of_its_argv() -> None:
    assert command_argv("python ${MA_JOB_DIR}/code/train.py --lr=$lr", ENV, ARGS) == [
        "python", "/home/ma-user/modelarts/user-job-dir/code/train.py", "--lr=0.1", *ARGS]


@pytest.mark.parametrize("command, script", [
    ("cd /cache && python train.py", f"cd /cache && python train.py {QUOTED}"),
    ("pip list; python train.py;", f"pip list; python train.py {QUOTED};"),
    ("a | python train.py", f"a | python train.py {QUOTED}"),
    ("python train.py > /cache/out.txt", f"python train.py > /cache/out.txt {QUOTED}"),
    ("cd /cache && python train.py # the note", f"cd /cache && python train.py {QUOTED} # the note"),
    ("python train.py --at=$(date)", f"python train.py --at=$(date) {QUOTED}"),
    ("echo 'a; b' && python \"x # y.py\"", f"echo 'a; b' && python \"x # y.py\" {QUOTED}"),
    ("echo a && echo done", f"echo a && echo done {QUOTED}"),  # 'done' ends a loop only as a command
])
def test_shell_commands_get_the_platform_arguments_on_their_last_command(command: str, script: str) -> None:
    assert append_arguments(command, ARGS) == script
    assert command_argv(command, ENV, ARGS) == ["/bin/sh", "-c", script]


@pytest.mark.parametrize("command", ["python train.py &", "(cd /cache; python train.py)", "a |",
                                     "if true; then python train.py; fi", "{ python train.py; }", "python train.py >"])
def test_a_last_command_that_cannot_take_arguments_is_refused(command: str) -> None:
    with pytest.raises(LastCommandError):
        append_arguments(command, ARGS)
