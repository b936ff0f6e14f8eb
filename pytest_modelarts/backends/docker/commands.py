"""How a custom image's ``user_command`` runs (exec form or a shell), and the host facts a container spec needs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def is_shell_command(command: str) -> bool:
    """True when ``command`` uses shell syntax outside quotes (pipes, ``&&``, ``;``, redirections, ``$(``)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    if any(t and set(t) <= set("|&;<>()") for t in tokens):
        return True
    # backquotes and $( inside double quotes are still the shell's business
    return "`" in command or "$(" in command


def command_argv(command: str, env: dict[str, str]) -> list[str]:
    """The argv that runs ``user_command``: exec form with the job's variables substituted, or ``/bin/sh -c``."""
    if is_shell_command(command):
        return ["/bin/sh", "-c", command]

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return [_VARIABLE.sub(expand, arg) for arg in shlex.split(command)]


def host_gpus() -> int:
    return len([p for p in Path("/dev").glob("nvidia[0-9]*")]) if Path("/dev").is_dir() else 0


def memory_bytes(size: str) -> int:
    units = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    size = size.lower()
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
