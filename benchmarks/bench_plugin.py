"""Plugin overhead: ``pytest --modelarts examples/`` vs a plain pytest test running the same boot file.

Both sides run in a fresh ``python -m pytest``, on a copy of ``examples/``, with a warm environment: the
example's locked environment (``mlp_digits.env.toml``) is built before timing, and one warm-up run of each
side fills the OS cache and imports. The plain side is one pytest test per smoke job of the example that
runs ``train.py`` with ``subprocess``, with the same interpreter (the locked environment's python) and
exactly the smoke job's arguments (taken from the marker and the job file), without our plugin
(``-p no:modelarts``). Sides alternate; the figure is the ratio of medians of total wall time, and beside it the
median of the paired ratios (each plugin run against the plain run before it). Goal: <= 1.10. The plugin's own
bytecode is compiled first, as ``pip install`` does for a user.

    python benchmarks/bench_plugin.py [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_modelarts.pytest_plugin.jobfile import load_job_file
from pytest_modelarts.pytest_plugin.marker import spec_from_marker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PLAIN = '''\
import subprocess, sys
import pytest

CASES = {cases}

@pytest.mark.parametrize("data, args", CASES)
def test_plain(data, args, tmp_path):
    data_url = data or str(tmp_path / "inputs")
    (tmp_path / "inputs").mkdir()
    subprocess.run([{python!r}, {train!r}, f"--data_url={{data_url}}", f"--train_url={{tmp_path / 'out'}}", *args,
                    "--num_gpus=0"], check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert (tmp_path / "out" / "model.pkl").is_file()
'''


def smoke_cases(examples: Path) -> list[tuple[str | None, list[str]]]:
    """(data dir, argv) of every smoke job the example runs: the marker's (twice: two tests) and the job file's."""
    spec_module = importlib.util.spec_from_file_location("bench_example", examples / "test_mnist_mlp.py")
    module = importlib.util.module_from_spec(spec_module)
    spec_module.loader.exec_module(module)  # type: ignore[union-attr]
    mark = module.mnist_mlp.mark
    marker = spec_from_marker(mark.args, mark.kwargs, examples)
    specs = [(marker, marker.local_inputs), (marker, None)]  # test_mnist_mlp_learns, test_mnist_mlp_without_inputs
    specs += [(spec, spec.local_inputs) for _, spec in load_job_file(examples / "mnist_mlp.modelarts.toml")]
    return [(data, [f"--{label}={value}" for label, value in spec.hyperparameters.updated(spec.smoke_hyperparameters)])
            for spec, data in specs]


def warm_environment(examples: Path) -> Path:
    """Lock (from the committed lock) and build the example's environment; return its interpreter."""
    from pytest_modelarts.envs.build import ensure_environment
    from pytest_modelarts.pytest_plugin.documents import load_environment_file

    env = load_environment_file(examples / "mlp_digits.env.toml")
    env.lock_file = examples / "mlp-digits.conda-lock.yml"
    return ensure_environment(env, lock_mode="check", python_source="local").python


def run(args: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        sys.exit(f"pytest {' '.join(args)} failed:\n{result.stdout}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        examples = root / "examples"
        shutil.copytree(EXAMPLES, examples, ignore=shutil.ignore_patterns("__pycache__", ".modelarts"))
        (root / "pytest.ini").write_text("[pytest]\nmodelarts_python_source = local\n")
        cases = smoke_cases(examples)
        python = warm_environment(examples)
        plain_dir = root / "plain"
        plain_dir.mkdir()
        (plain_dir / "test_plain.py").write_text(PLAIN.format(cases=repr(cases), python=str(python), train=str(examples / "mnist_mlp" / "train.py")))
        # the package's bytecode, as `pip install` compiles it for a user: tox runs this editable checkout with
        # PYTHONDONTWRITEBYTECODE=1, which would otherwise make every timed run compile the plugin from source
        compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "pytest_modelarts"), quiet=1)
        plugin_args, plain_args = ["--modelarts", "examples"], ["-p", "no:modelarts", "plain"]
        run(plugin_args, root), run(plain_args, root)  # warm-up
        with_plugin, plain = [], []
        for _ in range(opts.runs):
            plain.append(run(plain_args, root))
            with_plugin.append(run(plugin_args, root))
    p, b = statistics.median(with_plugin), statistics.median(plain)
    print(f"smoke jobs per run: {len(cases)} (the marker's two tests and the job file's job)")
    print(f"pytest --modelarts examples/     median {p:6.2f} s  ({opts.runs} runs: {', '.join(f'{t:.2f}' for t in with_plugin)})")
    print(f"plain pytest, same boot file     median {b:6.2f} s  ({opts.runs} runs: {', '.join(f'{t:.2f}' for t in plain)})")
    paired = statistics.median(w / n for w, n in zip(with_plugin, plain, strict=True))
    print(f"ratio {p / b:.3f}  (goal: <= 1.10); median of the {opts.runs} paired ratios (each run against the plain run "
          f"just before it, which holds when the machine's speed drifts) {paired:.3f}")


if __name__ == "__main__":
    main()
