"""The job plan and what it is built from: one contract object per version, one backend registry per plugin manager."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_modelarts import ConfigurationError, ContainerOptions, Estimator, Session
from pytest_modelarts.core import contract, runner
from pytest_modelarts.core.commands import host_gpus
from pytest_modelarts.core.hooks import hookimpl
from pytest_modelarts.core.job import JobConfig
from pytest_modelarts.core.plan import JOB_SITE, Network, plan_job

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_modelarts"


def fitted(code_dir: Path, **options: object) -> JobConfig:
    return JobConfig.template(code_dir=str(code_dir), boot_file="train.py", train_instance_type="local",
                              train_instance_count=2, **options).fit(job_name="planned")


def test_each_version_is_one_contract_object_and_only_the_contract_module_branches_on_it() -> None:
    assert contract.Version.V2.contract is contract.V2_CONTRACT and contract.Version.V1.contract is contract.V1_CONTRACT
    v2, v1 = contract.V2_CONTRACT, contract.V1_CONTRACT
    assert (str(v2.layout().job_dir), str(v1.layout().job_dir)) == ("/home/ma-user/modelarts/user-job-dir", "/home/work/user-job-dir")
    assert (v2.user_name, v1.user_name, v2.object_urls, v1.object_urls, v2.submittable, v1.submittable) == (
        "ma-user", "work", False, True, True, False)
    branching = re.compile(r"Version\.V[12]\b|V1_CONTRACT|V1Contract")
    elsewhere = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name != "contract.py" and branching.search(p.read_text())]
    assert elsewhere == [], "what differs between versions is the contract object's to know"


def test_a_plan_decides_argv_variables_and_mounts_once_for_every_backend(code_dir: Path, sdk_session: Session) -> None:
    (code_dir / "requirements.txt").write_text("")
    plan = plan_job(fitted(code_dir, hyperparameters={"lr": "0.1"}, contract="v1"), sdk_session, None, "abcd1234",
                    environ={"PIP_INDEX_URL": "https://mirror.example/simple/", "AWS_SECRET_ACCESS_KEY": "never"})
    env = plan.environment(1, address="10.0.0.3")
    assert (env["DLS_TASK_INDEX"], env["DLS_TASK_NUMBER"], env["HOSTNAME"]) == ("1", "2", "modelarts-job-abcd1234-worker-1")
    assert plan.job_bucket == "modelarts-local-abcd1234" and env["DLS_APP_URL"] == "obs://modelarts-local-abcd1234/code/"
    assert plan.argv(env) == ["python", "/home/work/user-job-dir/code/train.py", "--data_url=obs://modelarts-local-abcd1234/inputs/",
                              "--train_url=obs://modelarts-local-abcd1234/outputs/", "--lr=0.1", "--num_gpus=0"]
    assert env["PYTHONPATH"] == f"/home/work/user-job-dir:{plan.requirements_site}:{JOB_SITE}"
    assert "AWS_SECRET_ACCESS_KEY" not in env and not any(name.startswith("MA_") for name in env)
    assert plan.requirements == "requirements.txt" and plan.network is Network.PRIVATE and plan.shm_bytes >= 1024**3
    assert [(m.path, m.writable) for m in plan.mounts()] == [(JOB_SITE, False), (plan.requirements_site, False)]
    assert plan.working_dir() == contract.V1_CONTRACT.layout().job_dir and plan.user == sdk_session.run_user


def test_a_gpu_request_this_host_cannot_meet_is_refused_before_anything_runs(code_dir: Path, sdk_session: Session) -> None:
    if host_gpus():
        pytest.skip("this host has a GPU: the request can be met")
    estimator = Estimator(modelarts_session=sdk_session, code_dir=code_dir, boot_file="train.py", train_instance_type="local",
                          train_instance_count=1, container_options=ContainerOptions(gpus=1))
    with pytest.raises(ConfigurationError, match=r"ContainerOptions\(gpus=1\) but this host has no NVIDIA GPU"):
        estimator.fit(wait=True)
    assert not (sdk_session.local_root / "runs").exists(), "nothing was laid out"


def test_the_backend_registry_is_collected_once_per_plugin_manager_and_again_when_its_plugins_change() -> None:
    calls = []

    class Counting:
        @hookimpl
        def pytest_modelarts_register_backends(self, registry: object) -> None:
            calls.append(registry)

    pm = runner.new_plugin_manager({"counting": Counting()})
    first = runner.collect_backends(pm)
    assert runner.collect_backends(pm) is first and len(calls) == 1
    pm.register(Counting(), name="another")
    assert runner.collect_backends(pm) is not first and len(calls) == 3  # both plugins asked again
    assert first.get("local").name == "local"
