"""The emulator says what the v2 API says: environments, working_dir, phases, start_time; and the v1 statuses.

Sources are in docs/online.md ("Emulator fidelity"): opentelekomcloud-docs/modelarts
api-ref/source/training_management/creating_a_training_job.rst and .../historical_apis/training_management_old_version/job_statuses.rst.
"""

from __future__ import annotations

import time

import pytest

from pytest_modelarts import Estimator, JobPhase, OnlineError, Session
from pytest_modelarts.backends.online import backend as online_backend
from pytest_modelarts.backends.online.backend import create_job
from pytest_modelarts.backends.online.body import environment_problems
from pytest_modelarts.backends.online.clients import Clients
from pytest_modelarts.core.phase import SECONDARY_PHASES, V1_STATUSES
from pytest_modelarts.emulator import Emulator

from ..support.waiting import wait_until
from .conftest import FLAVOR

JOB_DIR = "/home/ma-user/modelarts/user-job-dir"
SHOW_ENV = """\
import os
print('greeting', os.environ.get('GREETING'), 'cwd', os.getcwd())
"""


def _estimator(session, code, **kw):
    return Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=FLAVOR,
                     framework_type="PyTorch",
                     train_instance_count=1, output_path="obs://emulator-bucket/out/", **kw)


def _with_algorithm(monkeypatch, **fields):
    """Let the online backend send ``fields`` in algorithm (as another client of the API could)."""
    build = online_backend.build_job_body

    def build_with(*args, **kwargs):
        body = build(*args, **kwargs)
        for key, value in fields.items():
            setattr(body.algorithm, key, value)
        return body

    monkeypatch.setattr(online_backend, "build_job_body", build_with)


def test_environments_and_working_dir_are_kept_shown_and_used(modelarts_emulator, online_code, online_data, monkeypatch):
    (online_code / "train.py").write_text(SHOW_ENV)
    _with_algorithm(monkeypatch, environments={"GREETING": "hello"})
    job = _estimator(modelarts_emulator.session(), online_code).fit(inputs=str(online_data), wait=True, job_name="envs")
    [doc] = modelarts_emulator.jobs()
    assert doc["algorithm"]["environments"] == [{"GREETING": "hello"}]  # "Array of Map<String,String>" in the response
    assert doc["algorithm"]["working_dir"] == JOB_DIR
    # what the SDK parses (JobAlgorithmResponse.environments: list[dict(str, str)])
    algorithm = job._execution._refresh().algorithm
    assert (algorithm.environments, algorithm.working_dir) == ([{"GREETING": "hello"}], JOB_DIR)
    assert "greeting hello" in job.logs()


def _renamed(monkeypatch, field, name):
    """Let the online backend name its first input or output ``name`` (as another client of the API could)."""
    build = online_backend.build_job_body

    def build_with(*args, **kwargs):
        body = build(*args, **kwargs)
        getattr(body.algorithm, field)[0].name = name
        return body

    monkeypatch.setattr(online_backend, "build_job_body", build_with)


@pytest.mark.parametrize(("change", "match"), [
    (lambda mp: _with_algorithm(mp, working_dir="/home/ma-user/elsewhere"),
     r"algorithm\.working_dir: '/home/ma-user/elsewhere' is not '/home/ma-user/modelarts/user-job-dir' \(a boot file runs in MA_JOB_DIR\)"),
    (lambda mp: _renamed(mp, "inputs", "data"),
     r"algorithm\.inputs\[0\]\.name: 'data' is not 'data_url' \(ModelArts puts it at /home/ma-user/modelarts/inputs/<name>_0, "
     r"and the boot file is given /home/ma-user/modelarts/inputs/data_url_0\)"),
    (lambda mp: _renamed(mp, "outputs", "model"), r"algorithm\.outputs\[0\]\.name: 'model' is not 'train_url'"),
])
def test_a_body_that_disagrees_with_the_contract_is_refused_with_a_400(modelarts_emulator, online_code, online_data,
                                                                      monkeypatch, change, match):
    change(monkeypatch)
    with pytest.raises(OnlineError, match=match) as info:
        _estimator(modelarts_emulator.session(), online_code).fit(inputs=str(online_data), wait=True, job_name="off-contract")
    assert (info.value.status, info.value.error_code) == (400, "ModelArts.0101")
    assert modelarts_emulator.jobs() == []


def test_a_custom_image_works_in_ma_home_and_nowhere_else(modelarts_emulator):
    from huaweicloudsdkmodelarts.v1 import model as m

    def body(working_dir):
        return m.Job(kind="job", metadata=m.JobMetadata(name="image"), spec=m.Spec(resource=m.SpecResource(flavor_id=FLAVOR)),
                     algorithm=m.JobAlgorithm(engine=m.JobEngine(image_url="swr.example.com/o/i:1"), command="env",
                                              working_dir=working_dir))

    clients = Clients.of(modelarts_emulator.session())
    with pytest.raises(OnlineError, match=r"'/home/ma-user/modelarts/user-job-dir' is not '/home/ma-user' \(a custom "
                                          r"image's command runs in MA_HOME\)"):
        create_job(clients, body(JOB_DIR))
    assert create_job(clients, body("/home/ma-user"))  # accepted (it fails later: the emulator runs no images)


@pytest.mark.parametrize(("environments", "match"), [
    ({"1ST": "x"}, "'1ST' is not a variable name: letters, digits and '_', not starting with a digit"),
    ({"A-B": "x"}, "'A-B' is not a variable name"),
    ({"with.dot": "x"}, "'with.dot' is not a variable name"),
    ({"K" * 8193: "x"}, "is not a variable name: .* at most 8192 characters"),
    ({"A": "v" * 4097}, "the value of 'A' is longer than 4096"),
    ({"A": "$HOME/x"}, "cannot contain \\$"),
    ({f"V{i}": "x" for i in range(101)}, "at most 100 variables are allowed"),
])
def test_forbidden_environments_are_refused_with_a_400(modelarts_emulator, environments, match):
    from huaweicloudsdkmodelarts.v1 import model as m

    body = m.Job(kind="job", metadata=m.JobMetadata(name="bad-env"), spec=m.Spec(resource=m.SpecResource(flavor_id=FLAVOR, node_count=1)),
                 algorithm=m.JobAlgorithm(engine=m.JobEngine(image_url="swr.example.com/o/i:1"), command="env", environments=environments))
    with pytest.raises(OnlineError, match=match) as info:
        create_job(Clients.of(modelarts_emulator.session()), body)
    assert (info.value.status, info.value.error_code) == (400, "ModelArts.2802")
    assert modelarts_emulator.jobs() == []


def test_the_documented_environment_limits_themselves_are_allowed():
    assert environment_problems({"_a1": "", "K" * 8192: "v" * 4096, **{f"V{i}": "x" for i in range(98)}}.items()) == []


def test_phases_start_time_and_duration_as_the_api_shows_them(tmp_path, online_code, online_data):
    (online_code / "train.py").write_text("import time\ntime.sleep(0.5)\n")
    with Emulator("FIDELITYAK", "fidelity-secret", "fidelity-project", root=tmp_path / "emu", buckets=("emulator-bucket",),
                  phase_delay=0.3) as emulator:
        session = Session(access_key="FIDELITYAK", secret_key="fidelity-secret", project_id="fidelity-project",
                          endpoint=emulator.endpoint, obs_endpoint=emulator.obs_endpoint, local_root=tmp_path / "local",
                          stream_logs=False)
        before = int(time.time() * 1000)
        job = _estimator(session, online_code).fit(inputs=str(online_data), job_name="phases")
        seen = []

        def finished() -> dict | None:  # each look at the job is kept in seen
            [doc] = emulator.jobs()
            status = doc["status"]
            seen.append((status["phase"], status["secondary_phase"], status["start_time"], status["duration"]))
            return doc if status["phase"] in ("Completed", "Failed") else None

        doc = wait_until(finished, limit=120, what=lambda: f"the job to finish; seen {seen[-3:]}")
        shown = job._execution._refresh().status  # through the SDK's model
        history = doc["emulator"]["phases"]
    assert history == [["Creating", "Creating"], ["Pending", "Queuing"], ["Running", "Running"], ["Completed", "Completed"]]
    for phase, secondary, start_time, duration in seen:
        assert JobPhase(phase) and secondary in SECONDARY_PHASES
        if phase in ("Creating", "Pending"):
            assert (start_time, duration) == (0, 0)
        else:
            assert before <= start_time <= int(time.time() * 1000)  # epoch milliseconds
    assert seen[-1][3] >= 500  # ran 0.5 s: milliseconds
    assert (shown.phase, shown.secondary_phase, shown.start_time) == ("Completed", "Completed", seen[-1][2])
    assert job.get_job_info()["status"] == 10


def test_stopped_job_phases_and_v1_statuses(modelarts_emulator, online_code, online_data):
    (online_code / "train.py").write_text("import time\ntime.sleep(120)\n")
    job = _estimator(modelarts_emulator.session(), online_code).fit(inputs=str(online_data), job_name="stopped")
    job.stop()
    [doc] = modelarts_emulator.jobs()
    assert doc["emulator"]["phases"][-2:] == [["Terminating", "Terminating"], ["Terminated", "Terminated"]]
    assert all(JobPhase(p) and s in SECONDARY_PHASES for p, s in doc["emulator"]["phases"])
    assert job.get_job_info()["status"] == 12


def test_v1_statuses_are_the_documented_table_and_the_mapping_is_decided():
    assert list(V1_STATUSES) == list(range(23))
    assert V1_STATUSES[9][0] == "JOBSTAT_KILLING" and V1_STATUSES[14] == ("JOBSTAT_LOST", "Job lost.")
    assert {p.value: (p.v1_status, p.v1_status_name) for p in JobPhase} == {
        "Creating": (1, "JOBSTAT_INIT"),
        "Pending": (7, "JOBSTAT_WAITING"),
        "Running": (8, "JOBSTAT_RUNNING"),
        "Completed": (10, "JOBSTAT_COMPLETED"),
        "Failed": (11, "JOBSTAT_FAILED"),
        "Terminating": (9, "JOBSTAT_KILLING"),
        "Terminated": (12, "JOBSTAT_KILLED"),
        "Abnormal": (14, "JOBSTAT_LOST"),
    }


@pytest.mark.parametrize(("algorithm", "code", "message"), [
    ({"code_dir": 3}, "ModelArts.0101", "body.algorithm.code_dir"),  # the SDK model's check
    ({"code_dir": "obs://b/c/", "boot_file": "obs://b/c/t.py", "environments": {"A": "$B"}}, "ModelArts.2802", "cannot contain $"),
    ({"code_dir": "obs://b/c/", "environments": {"A": "$B"}}, "ModelArts.2802", "cannot contain $"),  # before the other rules
    ({"code_dir": "obs://b/c/"}, "ModelArts.0101", "algorithm: give code_dir + boot_file"),
    ({"code_dir": "c/", "boot_file": "c/t.py"}, "ModelArts.0101", "algorithm.code_dir: must be an OBS path"),
])
def test_a_refused_create_request_names_the_first_failed_check(tmp_path, algorithm, code, message):
    import json

    from pytest_modelarts.emulator.modelarts import TrainingService

    service = TrainingService(project_id="p", store=None, work_root=tmp_path, phase_delay=0.0, python=None)
    body = {"kind": "job", "metadata": {"name": "n"}, "algorithm": algorithm, "spec": {"resource": {"flavor_id": FLAVOR}}}
    answer = service.handle("POST", "/v2/p/training-jobs", "", json.dumps(body).encode())
    error = json.loads(answer.body)
    assert (answer.status, error["error_code"]) == (400, code) and message in error["error_msg"], error
    assert service.jobs == {}
