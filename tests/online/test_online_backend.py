"""Estimator(train_instance_type=<flavor>).fit() through the official SDKs against the emulator."""

from __future__ import annotations

import pytest

from pytest_modelarts import ConfigurationError, Estimator, JobFailedError, JobPhase, ParameterError, Session
from pytest_modelarts.backends.online.body import build_job_body
from pytest_modelarts.core.plan import plan_job
from pytest_modelarts.emulator.modelarts import contract_problems

from .conftest import FLAVOR, MULTI_NODE_FLAVOR


def estimator(session, code, **kw):
    params = dict(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=FLAVOR,
                  framework_type="PyTorch",
                  train_instance_count=1, output_path=kw.pop("output_path", "obs://emulator-bucket/out/"),
                  hyperparameters=[{"label": "epochs", "value": kw.pop("epochs", "2")}])
    params.update(kw)
    return Estimator(**params)


def test_fit_runs_the_job_online_and_outputs_land_in_obs(modelarts_emulator, online_code, online_data):
    job = estimator(modelarts_emulator.session(), online_code).fit(inputs=str(online_data), job_name="e2e-1")
    assert job.backend == "online"
    assert job.wait(120) is JobPhase.COMPLETED
    info = job.get_job_info()
    [doc] = modelarts_emulator.jobs()
    assert info["online_job_id"] == doc["metadata"]["id"] == info["job_id"] == job.job_id
    assert doc["emulator"]["history"] == ["Creating", "Pending", "Running", "Completed"]
    assert doc["spec"]["resource"] == {"flavor_id": FLAVOR, "node_count": 1}
    assert doc["algorithm"]["parameters"] == [{"name": "epochs", "value": "2"}]
    assert "epochs 2 data ['train.csv']" in job.logs()
    assert job.get_job_log_file_list() == ["worker-0"]
    assert (modelarts_emulator.obs_root / "emulator-bucket" / "out" / "model.txt").read_text() == "trained 2"
    assert job.exit_code == 0


def test_code_is_uploaded_once_under_its_content_hash(modelarts_emulator, online_code, online_data):
    session = modelarts_emulator.session()
    estimator(session, online_code).fit(inputs=str(online_data), job_name="up-1", wait=True)
    code_keys = modelarts_emulator.objects("pytest-modelarts/code/")
    obs_before = modelarts_emulator.emulator.requests["obs"]
    estimator(session, online_code).fit(inputs=str(online_data), job_name="up-2", wait=True)
    assert modelarts_emulator.objects("pytest-modelarts/code/") == code_keys
    assert modelarts_emulator.emulator.requests["obs"] - obs_before == 2  # one marker check for code, one for data
    (online_code / "train.py").write_text((online_code / "train.py").read_text() + "\n# changed\n")
    estimator(session, online_code).fit(inputs=str(online_data), job_name="up-3", wait=True)
    assert len(modelarts_emulator.objects("pytest-modelarts/code/")) == 2 * len(code_keys)


def test_failed_job_raises_with_its_log_tail(modelarts_emulator, online_code, online_data):
    with pytest.raises(JobFailedError) as info:
        estimator(modelarts_emulator.session(), online_code, epochs="fail").fit(inputs=str(online_data), wait=True, job_name="fails")
    assert "boom" in str(info.value)
    assert info.value.job.exit_code == 3
    assert modelarts_emulator.jobs()[0]["emulator"]["history"][-1] == "Failed"


def test_stop_terminates_the_online_job(modelarts_emulator, online_code, online_data):
    (online_code / "train.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    job = estimator(modelarts_emulator.session(), online_code).fit(inputs=str(online_data), job_name="stopme")
    job.stop()
    assert job.phase is JobPhase.TERMINATED
    assert modelarts_emulator.jobs()[0]["emulator"]["history"][-2:] == ["Terminating", "Terminated"]


def test_multi_node_job_has_one_task_and_log_per_node(modelarts_emulator, online_code, online_data):
    job = estimator(modelarts_emulator.session(), online_code, train_instance_count=2,
                    train_instance_type=MULTI_NODE_FLAVOR).fit(
        inputs=str(online_data), wait=True, job_name="two-nodes")
    assert job.get_job_log_file_list() == ["worker-0", "worker-1"]
    assert "epochs 2" in job.logs(1)


def test_obs_inputs_and_log_url_are_passed_through(modelarts_emulator, online_code, online_data):
    session = modelarts_emulator.session()
    first = estimator(session, online_code).fit(inputs=str(online_data), wait=True, job_name="prep")
    data_url = next(k for k in modelarts_emulator.objects("pytest-modelarts/data/") if k.endswith("train.csv"))
    data_url = "obs://emulator-bucket/" + data_url.rsplit("/", 1)[0] + "/"
    job = estimator(session, online_code, output_path="obs://emulator-bucket/out2/",
                    log_url="obs://emulator-bucket/logs/").fit(inputs=data_url, wait=True, job_name="obs-in")
    assert first.phase is job.phase is JobPhase.COMPLETED
    assert [k for k in modelarts_emulator.objects("logs/") if k.endswith("worker-0.log")]
    assert modelarts_emulator.jobs()[1]["algorithm"]["inputs"][0]["remote"]["obs"]["obs_url"] == data_url


@pytest.mark.parametrize(("change", "match"), [
    ({"output_path": "/tmp/out"}, "output_path"),
    ({"log_url": "/tmp/logs"}, "log_url"),
])
def test_online_validation_names_the_parameter(modelarts_emulator, online_code, online_data, change, match):
    with pytest.raises(ParameterError, match=match):
        estimator(modelarts_emulator.session(), online_code, **change).fit(inputs=str(online_data))
    assert modelarts_emulator.jobs() == []


def test_online_without_credentials_fails_before_any_request(modelarts_emulator, online_code, online_data, monkeypatch):
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
        monkeypatch.delenv(name, raising=False)
    session = Session(endpoint=modelarts_emulator.endpoint, obs_endpoint=modelarts_emulator.obs_endpoint)
    with pytest.raises(ConfigurationError, match="credentials"):
        estimator(session, online_code).fit(inputs=str(online_data))
    assert modelarts_emulator.emulator.requests == {"modelarts": 0, "obs": 0}


def test_job_body_mapping_of_a_custom_image_job(online_code, tmp_path):
    from pytest_modelarts import JobConfig

    template = JobConfig.template(
        train_instance_count=3, output_path="obs://b/o", hyperparameters=[{"label": "lr", "value": "0.1"}],
        log_url="obs://b/l", train_instance_type=MULTI_NODE_FLAVOR, job_description="d",
        user_image_url="swr.example.com/org/img:1", user_command="bash run.sh")
    config = template.fit(inputs="obs://b/in/", job_name="img")
    body = build_job_body(plan_job(config, Session(local_root=tmp_path), None, "img1"), code_url=None,
                          inputs_url=config.inputs).to_dict()
    assert contract_problems(body["algorithm"]) == []  # what the emulator holds it to
    assert (body["kind"], body["metadata"]["name"], body["metadata"]["description"]) == ("job", "img", "d")
    assert body["algorithm"]["engine"]["image_url"] == "swr.example.com/org/img:1"
    assert body["algorithm"]["command"] == "bash run.sh"
    assert body["algorithm"]["environments"] == {"lr": "0.1"}
    assert body["algorithm"]["working_dir"] == "/home/ma-user"  # where the local docker run of an image works
    assert body["algorithm"]["outputs"][0]["remote"]["obs"]["obs_url"] == "obs://b/o/"
    assert body["spec"]["resource"]["node_count"] == 3
    assert body["spec"]["log_export_path"]["obs_url"] == "obs://b/l/"


def test_the_environment_travels_online_as_pinned_requirements(modelarts_emulator, tmp_path, online_data):
    """Smoke locally in the locked environment, then fit online: the uploaded code carries the lock's pip
    packages as pip-requirements.txt, which the (emulated) platform installs before the boot file."""
    from pytest_modelarts import CondaDependencies, Environment
    from pytest_modelarts.envs.lock import read_lock

    code = tmp_path / "needs-six"
    code.mkdir()
    (code / "train.py").write_text("import six\nprint('six from', six.__file__, six.__version__)\n")
    env = Environment("needs-six", conda=CondaDependencies.create(pip_packages=["six"], conda_packages=["python=3.11"]),
                      lock_file=tmp_path / "needs-six.conda-lock.yml")
    local = Session(local_root=tmp_path / "local", cache_dir=tmp_path / "envs", python_source="local", stream_logs=False)
    Estimator(modelarts_session=local, code_dir=str(code), boot_file="train.py", train_instance_type="local",
              train_instance_count=1, environment=env).fit(wait=True)
    (six,) = read_lock(env.lock_file).pip
    job = estimator(modelarts_emulator.session(), code, environment=env).fit(inputs=str(online_data), wait=True)
    assert job.phase is JobPhase.COMPLETED
    [requirements] = [k for k in modelarts_emulator.objects() if k.endswith("/needs-six/pip-requirements.txt")]
    text = (modelarts_emulator.obs_root / modelarts_emulator.bucket / requirements).read_text()
    assert f"six=={six.version}" in text.splitlines()
    assert "six from" in job.logs() and six.version in job.logs() and "requirements-site" in job.logs()
    assert not (code / "pip-requirements.txt").exists()  # the user's code dir is not touched


def test_job_body_of_a_boot_file_job_works_where_the_local_run_does(online_code, tmp_path):
    from pytest_modelarts import JobConfig
    from pytest_modelarts.core import contract

    config = JobConfig.template(code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR, framework_type="PyTorch", train_instance_count=1,
                                output_path="obs://b/o/").fit(inputs="obs://b/in/", job_name="boot")
    body = build_job_body(plan_job(config, Session(local_root=tmp_path), None, "boot1"), code_url="obs://b/code/",
                          inputs_url=config.inputs).to_dict()
    layout = contract.V2_CONTRACT.layout()
    assert body["algorithm"]["working_dir"] == str(layout.job_dir) == "/home/ma-user/modelarts/user-job-dir"
    assert [i["name"] for i in body["algorithm"]["inputs"]] == ["data_url"]  # ModelArts puts it at inputs/data_url_0
    assert [o["name"] for o in body["algorithm"]["outputs"]] == ["train_url"]
    assert contract_problems(body["algorithm"]) == []
    assert "environments" not in body["algorithm"] or body["algorithm"]["environments"] is None


@pytest.mark.parametrize(("label", "value"), [("lr.x", "0.1"), ("lr-x", "0.1"), ("LR", "$HOME"), ("LR", "v" * 4097)])
def test_custom_image_hyperparameters_the_api_refuses_as_environments_fail_before_any_request(modelarts_emulator, label, value):
    """The online backend's own guard; a JobConfig rule may refuse them even earlier, which is as good."""
    with pytest.raises(ParameterError, match="hyperparameters"):
        Estimator(modelarts_session=modelarts_emulator.session(), train_instance_type=FLAVOR, train_instance_count=1,
                  output_path="obs://emulator-bucket/out/", user_image_url="swr.example.com/o/i:1", user_command="env",
                  hyperparameters=[{"label": label, "value": value}]).fit(inputs="obs://emulator-bucket/in/")
    assert modelarts_emulator.emulator.requests == {"modelarts": 0, "obs": 0}


def test_custom_image_with_more_than_100_hyperparameters_fails_before_any_request(modelarts_emulator):
    with pytest.raises(ParameterError, match="at most 100"):
        Estimator(modelarts_session=modelarts_emulator.session(), train_instance_type=FLAVOR, train_instance_count=1,
                  output_path="obs://emulator-bucket/out/", user_image_url="swr.example.com/o/i:1", user_command="env",
                  hyperparameters=[{"label": f"V{i}", "value": "x"} for i in range(101)]).fit(inputs="obs://emulator-bucket/in/")
    assert modelarts_emulator.emulator.requests == {"modelarts": 0, "obs": 0}


def test_environment_problems_are_the_documented_rules():
    from pytest_modelarts.backends.online.body import environment_problems

    assert environment_problems([("_a1", ""), ("K" * 8192, "v" * 4096)] + [(f"V{i}", "x") for i in range(98)]) == []
    for pairs in ([("lr.x", "1")], [("1a", "1")], [("K" * 8193, "1")], [("A", "$B")], [("A", "v" * 4097)],
                  [(f"V{i}", "x") for i in range(101)]):
        assert len(environment_problems(pairs)) == 1, pairs
