"""pytest-modelarts against what a user would pick instead to run the same boot file, side by side in one run.

The same scikit-learn boot file (python 3.11, one pip dependency: ``scikit-learn``) through:

* ``Estimator.fit(wait=True)``: a fresh ``python`` process that builds the estimator and runs the job (sandboxed
  node where the machine allows it), the locked environment's python from a local interpreter;
* ``pytest --modelarts``: a fresh pytest run of one marked test running the same job;
* peers: ``uv venv`` + ``uv pip install`` + ``python train.py``; ``uv run --with``; ``python -m venv`` + ``pip
  install`` + ``python train.py``; plain pytest running the script with ``subprocess``; MLflow Projects and the
  Kubeflow SDK where their commands are installed (otherwise a line says they were left out).

Three figures per side, each a whole process (or a chain of processes) timed from here:

* cold: a new environment, with the download caches warm (ours: a new cache dir; uv run: ``--isolated``);
* warm: the environment exists, the scikit-learn boot file runs;
* floor: the environment exists, a boot file that prints and exits.

Repetitions are interleaved (every side's cold, then every side's warm, then floors, the order of the sides
rotating), after one warm-up of each; the figures are medians and the ratios ours / peer. Goals: cold vs uv
<= 1.0; warm vs the direct run (``python train.py`` in the uv venv) <= 1.10, both entry points.

    python benchmarks/bench_peers.py [--runs 5] [--python /path/to/python3.11] [--skip-cold-pip]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKLEARN = "scikit-learn==1.5.2"

TRAIN = """\
import argparse
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--train_url", default=".")
parser.parse_known_args()
x, y = load_digits(return_X_y=True)
xt, xv, yt, yv = train_test_split(x, y, test_size=0.25, random_state=0)
model = LogisticRegression(max_iter=200).fit(xt, yt)
print("accuracy", round(model.score(xv, yv), 3), flush=True)
"""

FLOOR = "print('ok', flush=True)\n"

ENV_TOML = f"""\
name = "bench-peers"
conda_packages = ["python=3.11"]
pip_packages = ["{SKLEARN}"]
"""

FIT = """\
import sys
from pytest_modelarts import Estimator, Session
from pytest_modelarts.pytest_plugin.documents import load_environment_file

cache, code, boot, env_file, root = sys.argv[1:6]
session = Session(local_root=root, cache_dir=cache, stream_logs=False, lock_mode="check", python_source="local")
estimator = Estimator(modelarts_session=session, code_dir=code, boot_file=boot, train_instance_type="local",
                      train_instance_count=1, environment=load_environment_file(__import__("pathlib").Path(env_file)))
estimator.fit(wait=True).raise_for_status()
"""

MARKED = """\
import pytest

@pytest.mark.modelarts(code_dir="code", boot_file="{boot}", environment="env.toml", train_instance_type="modelarts.vm.cpu.2u")
def test_job(modelarts_job):
    assert modelarts_job.phase.value == "Completed"
"""

PLAIN = """\
import subprocess

def test_job(tmp_path):
    subprocess.run([{python!r}, {script!r}, f"--train_url={{tmp_path}}"], check=True)
"""

#: what every side runs with: this environment as a user has it, where Python writes bytecode (tox sets
#: PYTHONDONTWRITEBYTECODE=1, which would make a venv's python compile scikit-learn at every run)
USER_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

Steps = Callable[[str, int], list[list[str]]]  # (kind, repetition) -> the commands, run one after another


@dataclass
class Side:
    name: str
    steps: Steps
    kinds: tuple[str, ...] = ("cold", "warm", "floor")
    ours: bool = False
    cleanup: Callable[[int], None] | None = None
    times: dict[str, list[float]] = field(default_factory=dict)

    def run(self, kind: str, rep: int, cwd: Path) -> None:
        t0 = time.perf_counter()
        for argv in self.steps(kind, rep):
            done = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=USER_ENV)
            if done.returncode != 0:
                sys.exit(f"{self.name} ({kind}): {' '.join(argv)} failed:\n{done.stdout[-3000:]}")
        if rep >= 0:
            self.times.setdefault(kind, []).append(time.perf_counter() - t0)
        if kind == "cold" and self.cleanup is not None:
            self.cleanup(rep)


def warm_bytecode(work: Path) -> None:
    """The warm environments as a user has them after a first job: their bytecode compiled (in the background, see
    pytest_modelarts/envs/bytecode.py; a process ending first leaves the rest to the next), waited for here."""
    sys.path.insert(0, str(REPO))
    from pytest_modelarts.envs import bytecode
    from pytest_modelarts.envs.build import ensure_environment
    from pytest_modelarts.pytest_plugin.documents import load_environment_file

    env = load_environment_file(work / "env.toml")
    for side in ("fit", "pytest"):
        built = ensure_environment(env, cache_dir=work / "ours-warm" / side, lock_mode="check", python_source="local",
                                   lock_path=work / "bench-peers.conda-lock.yml")
        bytecode.wait(built.prefix)


def local_python() -> str:
    found = sorted(Path("/root/.pyenv/versions").glob("3.11.*/bin/python3.11")) or []
    return str(found[-1]) if found else (shutil.which("python3.11") or "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=local_python(), help="a python 3.11 for the peers (default: pyenv's)")
    parser.add_argument("--skip-cold-pip", action="store_true", help="leave out python -m venv + pip's cold build (~30 s)")
    args = parser.parse_args()
    if not args.python:
        print("skipped: no python 3.11 on this machine (--python)")
        return 0
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    # the package's bytecode, as `pip install` compiles it for a user (tox runs this checkout with
    # PYTHONDONTWRITEBYTECODE=1, which would make every timed run compile pytest-modelarts from source)
    compileall.compile_dir(str(REPO / "pytest_modelarts"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="bench-peers-"))
    py = sys.executable
    try:
        code = work / "code"
        code.mkdir()
        (code / "train.py").write_text(TRAIN)
        (code / "floor.py").write_text(FLOOR)
        (work / "env.toml").write_text(ENV_TOML)
        (work / "fit.py").write_text(FIT)
        (work / "pytest.ini").write_text("[pytest]\nmodelarts_python_source = local\n")
        for boot in ("train", "floor"):
            (work / f"test_marked_{boot}.py").write_text(MARKED.format(boot=f"{boot}.py"))
        venv_uv, venv_pip = work / "uv-venv", work / "pip-venv"
        for boot in ("train", "floor"):
            (work / f"test_plain_{boot}.py").write_text(PLAIN.format(python=str(venv_uv / "bin" / "python"),
                                                                     script=str(code / f"{boot}.py")))

        def boot_of(kind: str) -> str:
            return "floor.py" if kind == "floor" else "train.py"

        def ours_cache(kind: str, rep: int) -> Path:
            return work / (f"ours-cold-{rep}" if kind == "cold" else "ours-warm")

        def fit(kind: str, rep: int) -> list[list[str]]:
            return [[py, str(work / "fit.py"), str(ours_cache(kind, rep) / "fit"), str(code), boot_of(kind),
                     str(work / "env.toml"), str(work / "runs")]]

        def marked(kind: str, rep: int) -> list[list[str]]:
            lock = "create" if rep == -2 else "check"
            return [[py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--modelarts", f"--modelarts-lock-mode={lock}",
                     f"--modelarts-cache-dir={ours_cache(kind, rep) / 'pytest'}", f"--modelarts-root={work / 'runs'}",
                     f"test_marked_{boot_of(kind)[:-3]}.py"]]

        def uv_steps(kind: str, rep: int) -> list[list[str]]:
            venv = work / f"uv-cold-{rep}" if kind == "cold" else venv_uv
            run = [str(venv / "bin" / "python"), str(code / boot_of(kind))]
            if kind != "cold":
                return [run]
            return [[uv, "venv", "-q", "--python", args.python, str(venv)],
                    [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), SKLEARN], run]

        def uv_run(kind: str, rep: int) -> list[list[str]]:
            return [[uv, "run", "-q", "--no-project", *(["--isolated"] if kind == "cold" else []), "--python", args.python,
                     "--with", SKLEARN, str(code / boot_of(kind))]]

        def pip_steps(kind: str, rep: int) -> list[list[str]]:
            venv = work / f"pip-cold-{rep}" if kind == "cold" else venv_pip
            run = [str(venv / "bin" / "python"), str(code / boot_of(kind))]
            if kind != "cold":
                return [run]
            return [[args.python, "-m", "venv", str(venv)],
                    [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", SKLEARN], run]

        def plain(kind: str, rep: int) -> list[list[str]]:
            return [[py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:modelarts",
                     f"test_plain_{boot_of(kind)[:-3]}.py"]]

        def remove(pattern: str) -> Callable[[int], None]:
            return lambda rep: shutil.rmtree(work / pattern.format(rep=rep), ignore_errors=True)

        sides = [
            Side("pytest-modelarts Estimator.fit", fit, ours=True, cleanup=remove("ours-cold-{rep}")),
            Side("pytest-modelarts pytest --modelarts", marked, ours=True, cleanup=remove("ours-cold-{rep}")),
            Side("uv venv + uv pip install + python", uv_steps, cleanup=remove("uv-cold-{rep}")),
            Side("uv run --with", uv_run),
            Side("python -m venv + pip install + python", pip_steps,
                 kinds=("warm", "floor") if args.skip_cold_pip else ("cold", "warm", "floor"), cleanup=remove("pip-cold-{rep}")),
            Side("plain pytest running the script", plain, kinds=("warm", "floor")),
        ]
        left_out = []
        for tool, what in (("mlflow", "MLflow Projects"), ("kfp", "Kubeflow SDK local process backend")):
            if shutil.which(tool) is None:
                left_out.append(f"{what}: left out ({tool} is not installed here; its install takes minutes)")
        # set-up: the lock (pytest side, lock mode create), the warm environments, the peers' caches
        sides[1].run("warm", -2, work)
        sides[0].run("warm", -2, work)
        warm_bytecode(work)
        subprocess.run([uv, "venv", "-q", "--python", args.python, str(venv_uv)], check=True, env=USER_ENV)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(venv_uv / "bin" / "python"), SKLEARN], check=True, env=USER_ENV)
        subprocess.run([args.python, "-m", "venv", str(venv_pip)], check=True, env=USER_ENV)
        subprocess.run([str(venv_pip / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", SKLEARN], check=True,
                       env=USER_ENV)
        for side in sides:  # warm-up: each kind once, not counted
            for kind in side.kinds:
                side.run(kind, -1, work)
        for rep in range(args.runs):
            for kind in ("cold", "warm", "floor"):
                turn = sides[rep % len(sides):] + sides[:rep % len(sides)]
                for side in turn:
                    if kind in side.kinds:
                        side.run(kind, rep, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(sides, args.runs, left_out)
    return 0


def report(sides: list[Side], runs: int, left_out: list[str]) -> None:
    print(f"the same scikit-learn boot file, python 3.11, one pip dependency; medians of {runs} interleaved runs (s)")
    ours = [side for side in sides if side.ours]
    med = {side.name: {kind: statistics.median(t) for kind, t in side.times.items()} for side in sides}
    print(f"{'side':42s} {'cold':>8s} {'warm':>8s} {'floor':>8s}")
    for side in sides:
        print(f"{side.name:42s} " + " ".join(f"{med[side.name][k]:8.3f}" if k in med[side.name] else f"{'n/a':>8s}"
                                           for k in ("cold", "warm", "floor")))
    print("ratios ours / peer (cold goal vs uv <= 1.0; warm goal vs the direct run <= 1.10)")
    for mine in ours:
        for peer in sides:
            if peer.ours:
                continue
            cells = []
            for kind in ("cold", "warm", "floor"):
                if kind in med[peer.name]:
                    cells.append(f"{kind} {med[mine.name][kind] / med[peer.name][kind]:6.2f}x")
            print(f"  {mine.name.removeprefix('pytest-modelarts '):22s} / {peer.name:40s} " + "  ".join(cells))
    for line in left_out:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
