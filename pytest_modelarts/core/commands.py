"""How a custom image's ``user_command`` runs (exec form or a shell, the platform's arguments appended to its last
command), and the host facts a container spec needs."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
#: characters that end a word of a shell command (outside quotes)
_OPERATORS = set("|&;<>()")
#: words that, in command position, end a command that an argument would not reach
_RESERVED = {"fi", "done", "esac", "}", "then", "do", "else", "elif", "in", "{", "!", "if", "while", "until", "case", "for"}


class LastCommandError(ValueError):
    """The platform's arguments cannot be appended to the last command of a shell ``user_command``."""


def is_shell_command(command: str) -> bool:
    """True when ``command`` uses shell syntax outside quotes (pipes, ``&&``, ``;``, redirections, ``$(``)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    if any(t and set(t) <= _OPERATORS for t in tokens):
        return True
    # backquotes and $( inside double quotes are still the shell's business
    return "`" in command or "$(" in command


def _top_level(command: str) -> list[bool]:
    """For each character of a shell command: whether it stands at the top level, outside quotes, escapes,
    ``$(...)``, ``${...}`` and backquotes (where an operator, a blank or ``#`` is syntax)."""
    top = [False] * len(command)
    stack: list[str] = []  # the open contexts: ' " ` ( {
    i = 0
    while i < len(command):
        c = command[i]
        ctx = stack[-1] if stack else None
        if ctx == "'":
            if c == "'":
                stack.pop()
        elif c == "\\":
            i += 2  # the escaped character is a plain one
            continue
        elif ctx == "`":
            if c == "`":
                stack.pop()
        elif command.startswith(("$(", "${"), i):
            stack.append(command[i + 1])
            i += 2
            continue
        elif ctx == '"':
            if c == '"':
                stack.pop()
            elif c == "`":
                stack.append(c)
        elif c in "'\"`":
            stack.append(c)
        elif ctx == "(" and c == "(":
            stack.append(c)
        elif ctx == "(" and c == ")":
            stack.pop()
        elif ctx == "{":
            if c == "}":
                stack.pop()
        else:
            top[i] = ctx is None
        i += 1
    return top


def append_arguments(command: str, arguments: Sequence[str]) -> str:
    """``command`` (a shell command) with ``arguments`` appended, shell-quoted, to its last simple command.

    ``a && b``, ``a; b``, ``a | b``: they go to ``b``; a trailing ``;`` and a trailing comment stay after them.
    Raises :class:`LastCommandError` where they would not reach a command: after ``&``, ``|``, ``(...)``, a
    redirection operator, or a compound command's closing word (``fi``, ``done``, ``}``...).
    """
    top = _top_level(command)

    def blank_or_operator(i: int) -> bool:
        return i < 0 or (top[i] and (command[i].isspace() or command[i] in _OPERATORS))

    cut = next((i for i, c in enumerate(command) if c == "#" and top[i] and blank_or_operator(i - 1)), len(command))
    end = cut
    while end > 0 and top[end - 1] and (command[end - 1].isspace() or command[end - 1] == ";"):
        end -= 1
    if end == 0:
        raise LastCommandError("there is no command to append them to")
    if top[end - 1] and command[end - 1] in _OPERATORS:
        raise LastCommandError(f"it ends with {command[end - 1]!r}, after which they would reach no command")
    start = end
    while not blank_or_operator(start - 1):
        start -= 1
    before = start - 1
    while before >= 0 and top[before] and command[before].isspace():
        before -= 1
    in_command_position = before < 0 or (top[before] and command[before] in _OPERATORS)
    if in_command_position and command[start:end] in _RESERVED:
        raise LastCommandError(f"it ends with the shell word {command[start:end]!r}, after which they would reach no command")
    return command[:end] + "".join(" " + shlex.quote(a) for a in arguments) + command[end:]


def command_argv(command: str, env: Mapping[str, str], arguments: Sequence[str] = ()) -> list[str]:
    """The argv that runs ``user_command`` with the platform's ``arguments`` appended to its last command.

    Exec form: split, the job's variables substituted, ``arguments`` appended to the argv. Shell syntax:
    ``/bin/sh -c <command>``, ``arguments`` appended to the last simple command of the string (shell-quoted).
    """
    if is_shell_command(command):
        return ["/bin/sh", "-c", append_arguments(command, arguments) if arguments else command]

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return [_VARIABLE.sub(expand, arg) for arg in shlex.split(command)] + list(arguments)


def host_gpus() -> int:
    return len([p for p in Path("/dev").glob("nvidia[0-9]*")]) if Path("/dev").is_dir() else 0


def memory_bytes(size: str) -> int:
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    size = size.lower()
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
