"""A built environment's bytecode is compiled by us, in the background, after the build: never left half done for
good, never by a job, and never outliving the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from pytest_modelarts.envs import bytecode
from pytest_modelarts.envs.build import ensure_environment
from tests.support.conda_channel import LocalChannel
from tests.support.waiting import wait_until

from .conftest import full_env


def _compiles_of(prefix: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if bytecode.COMPILED in argv and str(prefix) in argv:
            found.append(proc)
    return found


def test_the_compile_stopped_at_exit_is_resumed_by_the_next_use(conda_channel: LocalChannel, tmp_path: Path,
                                                                  cache_dir: Path) -> None:
    env = full_env(conda_channel)
    built = ensure_environment(env, cache_dir=cache_dir, lock_path=tmp_path / "full.conda-lock.yml")
    assert built.built
    bytecode.stop_all()  # what the process's exit does
    assert _compiles_of(built.prefix) == []
    (built.prefix / bytecode.COMPILED).unlink(missing_ok=True)  # as if the exit came before its end
    bytecode._DONE.discard(str(built.prefix))
    again = ensure_environment(env, cache_dir=cache_dir, lock_path=tmp_path / "full.conda-lock.yml")
    assert not again.built
    assert bytecode.wait(again.prefix, timeout=120)
    assert (again.prefix / bytecode.COMPILED).read_text() == "compiled\n"
    six = next(again.prefix.glob("**/six.py"))
    assert list((six.parent / "__pycache__").glob("six.*.pyc"))


KILLED_PARENT = """
import sys, time
from pathlib import Path
from pytest_modelarts.envs import bytecode
bytecode.compile_in_background(Path(sys.argv[1]), {"PATH": "/usr/bin:/bin"})
print("started", flush=True)
time.sleep(600)
"""


def test_the_compile_ends_with_a_killed_parent(conda_channel: LocalChannel, tmp_path: Path, cache_dir: Path) -> None:
    built = ensure_environment(full_env(conda_channel), cache_dir=cache_dir, lock_path=tmp_path / "full.conda-lock.yml")
    bytecode.stop_all()
    (built.prefix / bytecode.COMPILED).unlink(missing_ok=True)
    # a compile that takes a while: a slow python of the environment's own would do; a big tree to compile is simpler
    slow = next(built.prefix.glob("**/six.py")).parent
    for i in range(3000):
        (slow / f"bulk_{i}.py").write_text("x = [%s]\n" % ", ".join(str(n) for n in range(300)))
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(built.prefix)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert parent.stdout is not None and parent.stdout.readline().strip() == "started"
    compiles = wait_until(lambda: [p for p in _compiles_of(built.prefix) if p.ppid() == parent.pid], what="the compile")
    (compile_proc,) = compiles
    assert compile_proc.nice() == 19  # the jobs keep the cores
    workers = wait_until(compile_proc.children, what="its pool workers")
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in [compile_proc, *workers]),
               what="the compile and its pool workers to end with its parent")
    assert not (built.prefix / bytecode.COMPILED).exists()


WRITER = """
import os, sys
target = os.path.join(os.path.dirname(os.__file__), "__pycache__", "planted.cpython-311.pyc")
site = [p for p in sys.path if p.endswith("-packages")][0]
for path in (target, os.path.join(site, "__pycache__", "six.cpython-311.pyc")):
    try:
        with open(path, "wb") as f:
            f.write(b"planted")
        print("wrote", path, flush=True)
    except OSError as exc:
        print("refused", type(exc).__name__, flush=True)
import six
print("six", six.__version__, flush=True)
"""


def test_a_sandboxed_job_writes_no_bytecode_into_its_environment(conda_channel: LocalChannel, tmp_path: Path,
                                                                  cache_dir: Path) -> None:
    """The first job runs before the bytecode is compiled; still, neither its imports nor its own writes leave a
    .pyc in the environment for a later job: only our compile writes there."""
    from pytest_modelarts import Estimator, Session
    from tests.support.requirements import require_sandbox

    require_sandbox()
    env = full_env(conda_channel)
    env.lock_file = tmp_path / "full.conda-lock.yml"
    built = ensure_environment(env, cache_dir=cache_dir, lock_path=env.lock_file)
    bytecode.stop_all()
    (built.prefix / bytecode.COMPILED).unlink(missing_ok=True)
    for pyc in built.prefix.rglob("*.pyc"):
        pyc.unlink()
    before = set(built.prefix.rglob("*.pyc"))
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(WRITER)
    session = Session(local_root=tmp_path / "root", cache_dir=cache_dir, stream_logs=False, sandbox=True)
    job = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type="local",
                    train_instance_count=1, environment=env).fit(wait=True)
    bytecode.stop_all()  # the compile the job's use restarted: what the job itself wrote is what is checked
    assert job.logs().count("refused") == 2 and "six 1.16.0" in job.logs(), job.logs()
    assert not list(built.prefix.rglob("planted*"))
    written = set(built.prefix.rglob("*.pyc")) - before
    assert not any(path.read_bytes() == b"planted" for path in written)
