"""A built environment's bytecode, compiled by us in the background after the build, never by a job.

Compiling every module of an environment took most of a cold build (11 s of a 15 s scikit-learn build, more than
the install for torch), while the first job imports a fraction of it. So the build publishes the environment
without bytecode and starts the compile beside the first job: a process of our own, at the lowest CPU priority
(``nice 19``: the job keeps its cores), running the environment's own python over the prefix's ``sys.path``
directories, all of them in parallel. The first job compiles what it imports in memory, as a first ``python
train.py`` of a new venv would; the jobs after find the bytecode written.

Who writes the bytecode stays the same: this process's compile, from the environment's own sources, into the
environment; a sandboxed job sees the prefix through a read-only bind and writes nothing there, so no job can
leave code a later job runs. pycs are written whole (``py_compile`` writes a temporary file and renames it), so a
job that imports while the compile runs reads either no pyc or a whole one, which the interpreter checks against
the source's size and modification time.

The compile and its pool workers end with this process (their group killed at exit; should this process die, the
kernel's PR_SET_PDEATHSIG tells the compile, which kills its group); its marker, :data:`COMPILED`, is written only
when it finished, so the next process that uses the environment starts it again, and compileall skips what is
compiled already.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

#: written at the top of the prefix when every module is compiled (the build's own files start with this prefix)
COMPILED = ".pytest-modelarts-compiled"

# not compiled: test suites, and stdlib parts no training job imports (compiled at first import if one does)
NOT_COMPILED = r"/(tests?|idlelib|tkinter|turtledemo|lib2to3|ensurepip|pydoc_data)/"
# run by the environment's own python: every directory of its sys.path inside the prefix (the stdlib of a conda
# python, site-packages, Debian's local/lib/python3.X/dist-packages), outermost only, on every core; the marker
# only when all of it compiled (1: a file of a package that does not compile, e.g. a py2-only template, counts)
SCRIPT = """
import compileall, os, re, signal, sys
# its parent's death (PR_SET_PDEATHSIG) or stop_all: the whole group, compileall's pool workers with it
signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
# read-only pycs, as every file of a sealed environment (py_compile asks this for their mode; the pool's forked
# workers inherit it)
import importlib._bootstrap_external as bootstrap
bootstrap._calc_mode = lambda path: 0o444
prefix = os.path.realpath(sys.argv[1]) + os.sep
dirs = sorted({os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)})
dirs = [d for d in dirs if (d + os.sep).startswith(prefix)]
roots = [d for d in dirs if not any(d != o and (d + os.sep).startswith(o + os.sep) for o in dirs)]
rx = re.compile(sys.argv[2])
[compileall.compile_dir(d, quiet=2, workers=0, rx=rx) for d in roots]
marker = os.path.join(sys.argv[1], sys.argv[3])
with open(marker + ".tmp", "w") as f:
    f.write("compiled\\n")
os.replace(marker + ".tmp", marker)
"""

_RUNNING: dict[str, subprocess.Popen[bytes]] = {}
_DONE: set[str] = set()
_LOCK = threading.Lock()
_PR_SET_PDEATHSIG = 1
_prctl: Any = None  # libc's prctl, once a compile was started


def compiled(prefix: Path) -> bool:
    """Whether every module of ``prefix`` has its bytecode (the compile finished, in this process or an earlier one)."""
    key = str(prefix)
    if key in _DONE:
        return True
    if (prefix / COMPILED).exists():
        _DONE.add(key)
        return True
    return False


def compile_in_background(prefix: Path, environment: dict[str, str]) -> None:
    """Start compiling ``prefix``'s modules, unless they are compiled or a compile of this process is under way.
    ``environment``: the variables the compile runs with (the build's own, without the user's PYTHON*)."""
    if compiled(prefix) or not (prefix / "bin" / "python").exists():
        return
    key = str(prefix)
    with _LOCK:
        running = _RUNNING.get(key)
        if running is not None and running.poll() is None:
            return
        global _prctl
        if _prctl is None:  # looked up here: the child, between fork and exec, must not load anything
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
            atexit.register(stop_all)
        _RUNNING[key] = subprocess.Popen(
            # -B: its own start-up imports write no pyc (of the default mode); py_compile writes them, read-only
            [str(prefix / "bin" / "python"), "-I", "-B", "-c", SCRIPT, key, NOT_COMPILED, COMPILED],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
            start_new_session=True,  # a group of its own: its pool workers end with it (killpg)
            preexec_fn=_low_priority_and_die_with_parent,  # noqa: PLW1509 - a nice() and a prctl(), nothing loaded
        )


def wait(prefix: Path, timeout: float | None = None) -> bool:
    """Wait for this process's compile of ``prefix`` (if any) to end; whether every module is compiled now."""
    with _LOCK:
        running = _RUNNING.get(str(prefix))
    if running is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.wait(timeout)
    return compiled(prefix)


def stop(prefix: Path) -> None:
    """End this process's compile of ``prefix`` (before the prefix is moved away: the compile would make its
    ``__pycache__`` folders again at the old path)."""
    with _LOCK:
        proc = _RUNNING.pop(str(prefix), None)
    if proc is not None:
        _kill(proc)


def stop_all() -> None:
    """End every compile under way (at exit): what it wrote stays, the next process compiles the rest."""
    with _LOCK:
        running = list(_RUNNING.values())
        _RUNNING.clear()
    for proc in running:
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the compile and its pool workers (its session's group)
    proc.wait()


def _low_priority_and_die_with_parent() -> None:
    """In the child, before exec: the lowest CPU priority, and SIGTERM when the thread that started it ends (the
    compile then kills its whole group: its pool workers do not get the parent-death signal)."""
    os.nice(19)
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
