"""The ModelArts SDK reference's local-training example ("Debugging a Training Job"), with the SDK's own imports.

    python examples/sdk_example.py

It runs the digits MLP locally under the ModelArts contract in a *locked* environment, in a sandboxed node where
the machine allows it: the lock ``mlp-digits.conda-lock.yml`` (committed next to this file; made on the first run
when missing) is built into the cache, with python from a local interpreter (``python_source="local"``: conda
channels may be unreachable) and the pip packages from PyPI; later runs reuse the cached build. Step 2 of the
that page changes only ``train_instance_type`` (e.g. ``"modelarts.vm.cpu.2u"``, with an ``obs://`` output_path
and inputs) to train online. The pytest smoke tests next to this file use the same locked environment
(``mlp_digits.env.toml``).
"""

from pathlib import Path

from modelarts.environment import Environment
from modelarts.environment.conda_env import CondaDependencies
from modelarts.estimator import Estimator
from modelarts.session import Session

HERE = Path(__file__).resolve().parent

session = Session(python_source="local")  # python from a local interpreter; conda channels may be unreachable
env = Environment("mlp-digits", lock_file=HERE / "mlp-digits.conda-lock.yml")
env.conda = CondaDependencies.create(pip_packages=["scikit-learn>=1.3,<2"], conda_packages=["python=3.11"])
estimator = Estimator(
    modelarts_session=session,
    code_dir=str(HERE / "mnist_mlp"),
    boot_file="train.py",
    train_instance_type="local",
    train_instance_count=1,
    environment=env,
    hyperparameters=[{"label": "epochs", "value": "10"}],
)
job = estimator.fit(wait=False, job_name="my_training_job")
job.wait()
job.raise_for_status()
print(job.get_job_info())
