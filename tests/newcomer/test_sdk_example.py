"""The ModelArts SDK reference's local-training example runs with its own imports (``modelarts.*``).

The example is the SDK reference's page "Debugging a Training Job" (step 1, ``train_instance_type='local'``),
pasted below. Three values are adapted to this machine and marked: the training code's directory (a notebook
path there), the pip packages (``tensorflow==1.13.1`` exists only for Python <= 3.7 and is a 90 MB download; the
page's other package, ``requests``, stays) and the python pin (``3.6.2`` -> ``3.11``: the interpreter every test
machine has). The imports and every call are the page's. Python comes from a local interpreter
(``PYTEST_MODELARTS_PYTHON=local``, an environment variable, so the script is not touched), since conda channels
are not reachable from the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

EXAMPLE = '''\
from modelarts.session import Session
from modelarts.estimator import Estimator
from modelarts.environment import Environment
from modelarts.environment.conda_env import CondaDependencies

session = Session()
env = Environment("tensorflow_mlp_mnist")
cd = CondaDependencies.create(pip_packages=["requests"], conda_packages=["python=3.11"])  # adapted, see above
env.conda = cd
src_local_path = "{code}"  # adapted: the test's code directory
train_file = "tensorflow_mlp_mnist.py"
estimator = Estimator(modelarts_session=session,
                      code_dir=src_local_path,            # Path of the local training script
                      boot_file=train_file,               # Path of the local training boot script
                      train_instance_type='local',        # Train locally
                      train_instance_count=1,             # Number of training nodes
                      environment=env)                    # Environment where the training script runs
job_instance = estimator.fit(wait=False, job_name='my_training_job')
'''

# appended after the example: wait for the job and show what it did
TRAILER = '''
import json
print("PHASE", job_instance.wait())
print("INFO", json.dumps({"exit_code": job_instance.exit_code, "output_path": str(job_instance.output_path)}))
'''

BOOT_FILE = '''\
import argparse, json, os, sys
import requests
parser = argparse.ArgumentParser()
parser.add_argument("--data_url")
parser.add_argument("--train_url")
args, _ = parser.parse_known_args()
with open(os.path.join(args.train_url, "trained.json"), "w") as f:
    json.dump({"requests": requests.__version__, "python": "%d.%d" % sys.version_info[:2], "cwd": os.getcwd()}, f)
print("trained with requests", requests.__version__)
'''


def run_script(script: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_the_sdk_reference_example_runs_with_its_modelarts_imports(tmp_path: Path) -> None:
    """The page's script, imports unchanged, locks and builds its environment and its job completes."""
    code = tmp_path / "tensorflow_mlp_mnist_local_mode" / "train"
    code.mkdir(parents=True)
    (code / "tensorflow_mlp_mnist.py").write_text(BOOT_FILE)
    script = tmp_path / "example.py"
    script.write_text(EXAMPLE.format(code=f"{code}/") + TRAILER)
    proc = run_script(script, tmp_path, PYTEST_MODELARTS_PYTHON="local", PYTEST_MODELARTS_CACHE_DIR=str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PHASE Completed" in proc.stdout, proc.stdout + proc.stderr
    info = json.loads(proc.stdout.split("INFO ", 1)[1].splitlines()[0])
    assert info["exit_code"] == 0
    trained = json.loads((Path(info["output_path"]) / "trained.json").read_text())
    assert trained["python"] == "3.11" and trained["requests"]
    assert trained["cwd"] == "/home/ma-user/modelarts/user-job-dir" or trained["cwd"].endswith("user-job-dir")
    assert (tmp_path / "tensorflow_mlp_mnist.conda-lock.yml").is_file()  # the lock goes next to the script's cwd


def _python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_modelarts_is_pytest_modelarts_when_no_other_package_provides_it(tmp_path: Path) -> None:
    proc = _python("""
        import modelarts, pytest_modelarts
        from modelarts.session import Session
        from modelarts.estimator import Estimator
        from modelarts.environment import Environment
        from modelarts.environment.conda_env import CondaDependencies
        assert modelarts.PROVIDED_BY == "pytest-modelarts"
        assert (Session, Estimator, Environment, CondaDependencies) == (pytest_modelarts.Session, pytest_modelarts.Estimator,
            pytest_modelarts.Environment, pytest_modelarts.CondaDependencies)
        try:
            import modelarts.not_a_module
        except ModuleNotFoundError as exc:
            print("missing", exc.name)
        print("ok")
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["missing", "modelarts.not_a_module", "ok"]


def test_an_installed_official_modelarts_sdk_is_never_shadowed(tmp_path: Path) -> None:
    """With another ``modelarts`` on the path (a stand-in for the official SDK), every ``modelarts`` import is that one."""
    official = tmp_path / "site" / "modelarts"
    (official / "environment").mkdir(parents=True)
    (official / "__init__.py").write_text("OFFICIAL = True\n")
    (official / "session.py").write_text("class Session:\n    official = True\n")
    (official / "environment" / "__init__.py").write_text("class Environment:\n    official = True\n")
    proc = _python("""
        import modelarts
        from modelarts.session import Session
        from modelarts.environment import Environment
        assert modelarts.OFFICIAL and Session.official and Environment.official
        assert not hasattr(modelarts, "PROVIDED_BY")
        try:
            import modelarts.estimator  # the stand-in has none: ours must not fill the gap
        except ModuleNotFoundError:
            print("official only")
    """, tmp_path, PYTHONPATH=str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["official", "only"]


def test_other_missing_modules_are_still_missing(tmp_path: Path) -> None:
    proc = _python("""
        for name in ("modelarts_extra", "not_modelarts"):
            try:
                __import__(name)
            except ModuleNotFoundError as exc:
                print(exc.name)
    """, tmp_path)
    assert proc.stdout.split() == ["modelarts_extra", "not_modelarts"], proc.stderr


def test_the_sdk_references_session_and_estimator_arguments_are_accepted(tmp_path: Path) -> None:
    """The AK/SK Session of the SDK reference's "Session Authentication" page and every Estimator keyword of its
    "Creating a Training Job" example (local paths in place of its OBS ones; its ``framework_version`` names an
    old-version engine, which the preset engine catalog does not hold, so the catalog's PyTorch version stands in)."""
    code = tmp_path / "src"
    code.mkdir()
    (code / "pytorch_sentiment.py").write_text("print('ok')\n")
    proc = _python(f"""
        from modelarts.session import Session
        from modelarts.estimator import Estimator
        session = Session(access_key='AKEXAMPLE', secret_key='never-shown', project_id='p123', region_name='cn-north-4')
        assert 'never-shown' not in repr(session)
        estimator = Estimator(
                              modelarts_session=session,
                              framework_type='PyTorch',
                              framework_version='pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64',
                              code_dir='{code}/',
                              boot_file='{code}/pytorch_sentiment.py',
                              log_url='{tmp_path}/log/',
                              hyperparameters=[
                                               {{"label":"classes",
                                                "value": "10"}},
                                               {{"label":"lr",
                                                "value": "0.001"}}
                                               ],
                              output_path='{tmp_path}/output/',
                              train_instance_type='modelarts.vm.cpu.2u',
                              train_instance_count=1,
                              job_description='pytorch-sentiment with ModelArts SDK')
        print(estimator.config.hyperparameters.as_sdk())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "'label': 'classes', 'value': '10'" in proc.stdout
