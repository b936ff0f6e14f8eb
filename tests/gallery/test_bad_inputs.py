"""A gallery of bad inputs: the SDK, the marker, job files, environment files, lock files, the CLI.

Every case must end in an error of the project's own types (a ``ModelArtsError``: ``ParameterError``,
``ConfigurationError``, ``SpecError``, ``JobFileError``, ``LockError``; for the CLI an ``error:`` line and a
non-zero status), raised before anything runs or is written, whose message names the parameter, key or file
(``needle``); no raw traceback, no hang (each case runs in a thread with a time limit), nothing silently
accepted. Options of the pytest command line are in ``test_option_gallery.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_modelarts import CondaDependencies, ContainerOptions, Environment, Estimator, ModelArtsError, Session
from pytest_modelarts.cli import main as cli_main
from pytest_modelarts.envs.lock import lock_environment, read_lock
from pytest_modelarts.pytest_plugin.documents import load_environment_file
from pytest_modelarts.pytest_plugin.jobfile import build_job_file, load_job_file
from pytest_modelarts.pytest_plugin.marker import configure, spec_from_marker

LIMIT = 20.0  # seconds a case may take


@dataclass
class Ctx:
    tmp: Path
    code: Path
    data: Path
    session: Session
    runs: Path


@dataclass(frozen=True)
class Case:
    id: str
    needle: str  # what the message must name: the parameter, the key or the file
    call: Callable[[Ctx], Any]
    xfail: str | None = None  # why this case still fails, and whose file must change

    def param(self) -> Any:
        marks = [pytest.mark.xfail(reason=self.xfail, strict=True)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


# --- the SDK -----------------------------------------------------------------------------------------------

def est(ctx: Ctx, **kw: Any) -> Estimator:
    params: dict[str, Any] = dict(modelarts_session=ctx.session, code_dir=str(ctx.code), boot_file="train.py",
                                  train_instance_type="local", train_instance_count=1)
    params.update(kw)
    return Estimator(**{k: v for k, v in params.items() if v is not DROP})


DROP = object()


def fit(ctx: Ctx, est_kw: dict[str, Any] | None = None, **kw: Any) -> Any:
    return est(ctx, **(est_kw or {})).fit(**kw)


def hp(label: Any, value: Any) -> list[dict[str, Any]]:
    return [{"label": label, "value": value}]


def fifo(ctx: Ctx, where: Path) -> str:
    os.mkfifo(where)
    return str(where)


def outside_link(ctx: Ctx) -> Any:
    (ctx.tmp / "secret.txt").write_text("x")
    (ctx.code / "link.txt").symlink_to(ctx.tmp / "secret.txt")
    return est(ctx)


ONLINE = dict(train_instance_type="modelarts.vm.cpu.2u", output_path="obs://bucket/out/")

SDK: list[Case] = [
    # Estimator: unknown and missing
    Case("est-unknown-kw", "train_instance_typo", lambda c: est(c, train_instance_typo="local")),
    Case("est-no-session", "modelarts_session", lambda c: est(c, modelarts_session=DROP)),
    Case("est-session-str", "modelarts_session", lambda c: est(c, modelarts_session="session")),
    Case("est-session-none", "modelarts_session", lambda c: est(c, modelarts_session=None)),
    # train_instance_type
    Case("type-missing", "train_instance_type", lambda c: est(c, train_instance_type=DROP)),
    Case("type-int", "train_instance_type", lambda c: est(c, train_instance_type=1)),
    Case("type-empty", "train_instance_type", lambda c: est(c, train_instance_type="")),
    Case("type-space", "train_instance_type", lambda c: est(c, train_instance_type="local host")),
    Case("type-LOCAL", "did you mean 'local'", lambda c: est(c, train_instance_type="LOCAL")),
    Case("type-local-newline", "did you mean 'local'", lambda c: est(c, train_instance_type="local\n")),
    Case("type-local-space", "did you mean 'local'", lambda c: est(c, train_instance_type=" local")),
    Case("type-Local", "did you mean 'local'", lambda c: est(c, train_instance_type="Local")),
    Case("type-list", "train_instance_type", lambda c: est(c, train_instance_type=["local"])),
    Case("type-newline-flavor", "train_instance_type", lambda c: est(c, train_instance_type="modelarts.vm.cpu.2u\n")),
    Case("type-slash", "train_instance_type", lambda c: est(c, train_instance_type="a/b")),
    # train_instance_count
    Case("count-missing", "train_instance_count", lambda c: est(c, train_instance_count=DROP)),
    Case("count-zero", "train_instance_count", lambda c: est(c, train_instance_count=0)),
    Case("count-negative", "train_instance_count", lambda c: est(c, train_instance_count=-1)),
    Case("count-bool", "train_instance_count", lambda c: est(c, train_instance_count=True)),
    Case("count-str", "train_instance_count", lambda c: est(c, train_instance_count="1")),
    Case("count-float", "train_instance_count", lambda c: est(c, train_instance_count=1.0)),
    Case("count-nan", "train_instance_count", lambda c: est(c, train_instance_count=float("nan"))),
    # code_dir and boot_file
    Case("code-missing-dir", "code_dir", lambda c: est(c, code_dir=str(c.tmp / "nope"))),
    Case("code-is-file", "code_dir", lambda c: est(c, code_dir=str(c.code / "train.py"))),
    Case("code-obs-local", "code_dir", lambda c: est(c, code_dir="obs://bucket/code/")),
    Case("code-http", "code_dir", lambda c: est(c, code_dir="http://example.com/code")),
    Case("code-outside-link", "link.txt", outside_link),
    Case("code-dangling-link", "gone.py", lambda c: ((c.code / "gone.py").symlink_to(c.code / "nothing.py"), est(c))),
    Case("code-fifo", "pipe", lambda c: (fifo(c, c.code / "pipe"), est(c))),
    Case("code-dir-link-out", "lib", lambda c: ((c.code / "lib").symlink_to(c.tmp, target_is_directory=True), est(c))),
    Case("boot-missing", "boot_file", lambda c: est(c, boot_file="nope.py")),
    Case("boot-not-py", "boot_file", lambda c: ((c.code / "run.sh").write_text(""), est(c, boot_file="run.sh"))),
    Case("boot-escapes", "boot_file", lambda c: est(c, boot_file="../train.py")),
    Case("boot-absolute-outside", "boot_file", lambda c: est(c, boot_file="/etc/passwd")),
    Case("boot-without-code", "boot_file", lambda c: est(c, code_dir=DROP)),
    Case("boot-int", "boot_file", lambda c: est(c, boot_file=3)),
    Case("boot-dir", "boot_file", lambda c: ((c.code / "pkg.py").mkdir(), est(c, boot_file="pkg.py"))),
    # output_path, log_url
    Case("output-http", "output_path", lambda c: est(c, output_path="http://example.com/out")),
    Case("output-obs-local", "output_path", lambda c: est(c, output_path="obs://bucket/out/")),
    Case("output-is-file", "output_path", lambda c: est(c, output_path=str(c.code / "train.py"))),
    Case("output-int", "output_path", lambda c: est(c, output_path=5)),
    Case("log-url-http", "log_url", lambda c: est(c, log_url="ftp://x/y")),
    Case("log-url-is-file", "log_url", lambda c: est(c, log_url=str(c.code / "train.py"))),
    Case("online-no-output", "output_path", lambda c: est(c, train_instance_type="modelarts.vm.cpu.2u").fit(inputs="obs://b/d/")),
    # hyperparameters
    Case("hp-dict-list-value", "hyperparameters", lambda c: est(c, hyperparameters={"lr": [1]})),
    Case("hp-str", "hyperparameters", lambda c: est(c, hyperparameters="lr=1")),
    Case("hp-item-str", "hyperparameters", lambda c: est(c, hyperparameters=["lr=1"])),
    Case("hp-extra-key", "hyperparameters", lambda c: est(c, hyperparameters=[{"label": "lr", "value": "1", "x": 1}])),
    Case("hp-missing-value", "hyperparameters", lambda c: est(c, hyperparameters=[{"label": "lr"}])),
    Case("hp-int-value", "hyperparameters", lambda c: est(c, hyperparameters=hp("lr", 1))),
    Case("hp-none-value", "hyperparameters", lambda c: est(c, hyperparameters=hp("lr", None))),
    Case("hp-int-label", "hyperparameters", lambda c: est(c, hyperparameters=hp(1, "1"))),
    Case("hp-empty-label", "hyperparameters", lambda c: est(c, hyperparameters=hp("", "1"))),
    Case("hp-label-newline", "hyperparameters", lambda c: est(c, hyperparameters=hp("lr\n", "1"))),
    Case("hp-label-space", "hyperparameters", lambda c: est(c, hyperparameters=hp("learning rate", "1"))),
    Case("hp-label-dash-start", "hyperparameters", lambda c: est(c, hyperparameters=hp("-lr", "1"))),
    Case("hp-label-equals", "hyperparameters", lambda c: est(c, hyperparameters=hp("lr=2", "1"))),
    Case("hp-label-digit-start", "hyperparameters", lambda c: est(c, hyperparameters=hp("1lr", "1"))),
    Case("hp-label-unicode", "hyperparameters", lambda c: est(c, hyperparameters=hp("lré", "1"))),
    Case("hp-duplicate", "hyperparameters", lambda c: est(c, hyperparameters=hp("lr", "1") + hp("lr", "2"))),
    Case("hp-data-url", "hyperparameters", lambda c: est(c, hyperparameters=hp("data_url", "x"))),
    Case("hp-train-url", "hyperparameters", lambda c: est(c, hyperparameters=hp("train_url", "x"))),
    Case("hp-value-nul", "NUL byte", lambda c: est(c, hyperparameters=hp("lr", "1\0"))),
    Case("hp-value-e2big", "kernel's limit", lambda c: est(c, hyperparameters=hp("blob", "x" * 200_000))),
    Case("hp-set", "hyperparameters", lambda c: est(c, hyperparameters={("lr", "1")})),
    # framework, description, model
    Case("framework-version-alone", "framework_version", lambda c: est(c, framework_version="2.1")),
    Case("framework-type-int", "framework_type", lambda c: est(c, framework_type=3)),
    Case("description-long", "job_description", lambda c: est(c, job_description="x" * 10_000)),
    Case("description-int", "job_description", lambda c: est(c, job_description=5)),
    Case("model-name-int", "model_name", lambda c: est(c, model_name=5)),
    # environment, backend, container, contract, obs_root, images
    Case("env-str", "environment", lambda c: est(c, environment="mlp.env.toml")),
    Case("env-dict", "environment", lambda c: est(c, environment={"name": "x"})),
    Case("backend-unknown", "backend", lambda c: fit(c, {"backend": "kubernetes"})),
    Case("backend-int", "backend", lambda c: est(c, backend=1)),
    Case("backend-online-local", "backend", lambda c: fit(c, {"backend": "online"})),
    Case("container-dict", "container", lambda c: est(c, container_options={"memory": "1g"})),
    Case("container-memory-bad", "memory", lambda c: est(c, container_options=ContainerOptions(memory="lots"))),
    Case("container-cpus-negative", "cpus", lambda c: est(c, container_options=ContainerOptions(cpus=-1))),
    Case("container-gpus-str", "gpus", lambda c: est(c, container_options=ContainerOptions(gpus="all"))),
    Case("container-network-bad", "network_mode", lambda c: est(c, container_options=ContainerOptions(network_mode="mesh"))),
    Case("contract-v3", "contract", lambda c: est(c, contract="v3")),
    Case("contract-int", "contract", lambda c: est(c, contract=2)),
    Case("obs-root-int", "obs_root", lambda c: est(c, obs_root=5)),
    Case("obs-root-file", "obs_root", lambda c: est(c, obs_root=str(c.code / "train.py"))),
    Case("image-space", "user_image_url", lambda c: est(c, user_image_url="my image", user_command="python x.py")),
    Case("image-int", "user_image_url", lambda c: est(c, user_image_url=5, user_command="python x.py")),
    Case("command-without-image", "user_command", lambda c: est(c, user_command="python train.py")),
    Case("command-int", "user_command", lambda c: est(c, user_image_url="python:3.11", user_command=5)),
    # fit
    Case("fit-unknown-kw", "input", lambda c: fit(c, input=str(c.data))),
    Case("fit-inputs-missing", "inputs", lambda c: fit(c, inputs=str(c.tmp / "nope"))),
    Case("fit-inputs-obs-local", "inputs", lambda c: fit(c, inputs="obs://bucket/data/")),
    Case("fit-inputs-http", "inputs", lambda c: fit(c, inputs="http://example.com/data")),
    Case("fit-inputs-int", "inputs", lambda c: fit(c, inputs=5)),
    Case("fit-inputs-dev-zero", "inputs", lambda c: fit(c, inputs="/dev/zero")),
    Case("fit-inputs-fifo", "inputs", lambda c: fit(c, inputs=fifo(c, c.tmp / "pipe"))),
    Case("fit-inputs-dir-with-fifo", "inputs", lambda c: (fifo(c, c.data / "pipe"), fit(c, inputs=str(c.data)))),
    Case("fit-dataset-local", "dataset_id", lambda c: fit(c, dataset_id="d", dataset_version_id="v")),
    Case("fit-dataset-id-alone", "dataset_version_id", lambda c: fit(c, dataset_id="d")),
    Case("fit-dataset-version-alone", "dataset_id", lambda c: fit(c, dataset_version_id="v")),
    Case("fit-data-source-local", "data_source", lambda c: fit(c, data_source="obs://b/d")),
    Case("fit-two-inputs", "dataset_id", lambda c: fit(c, ONLINE, inputs="obs://b/d/", dataset_id="d", dataset_version_id="v")),
    Case("fit-online-no-data", "inputs", lambda c: fit(c, ONLINE)),
    Case("fit-online-inputs-http", "inputs", lambda c: fit(c, ONLINE, inputs="http://x/y")),
    Case("fit-wait-str", "wait", lambda c: fit(c, wait="yes")),
    Case("fit-wait-int", "wait", lambda c: fit(c, wait=1)),
    Case("job-name-newline", "job_name", lambda c: fit(c, job_name="abc\n")),
    Case("job-name-space", "job_name", lambda c: fit(c, job_name="my job")),
    Case("job-name-long", "job_name", lambda c: fit(c, job_name="j" * 65)),
    Case("job-name-empty", "job_name", lambda c: fit(c, job_name="")),
    Case("job-name-int", "job_name", lambda c: fit(c, job_name=5)),
    Case("job-name-slash", "job_name", lambda c: fit(c, job_name="a/b")),
    Case("job-name-dots", "job_name", lambda c: fit(c, job_name="..")),
    Case("job-name-unicode", "job_name", lambda c: fit(c, job_name="jöb")),
    # Session
    Case("session-ak-alone", "secret_key", lambda c: Session(access_key="AK", secret_key=None)),
    Case("session-lock-mode", "lock_mode", lambda c: Session(lock_mode="always")),
    Case("session-python-source", "python_source", lambda c: Session(python_source="system")),
    Case("session-sandbox-str", "sandbox", lambda c: Session(sandbox="yes")),
    Case("session-contract", "contract", lambda c: Session(contract="v9")),
    Case("session-docker-image-empty", "docker_image", lambda c: Session(docker_image=" ")),
    Case("session-sync-zero", "output_sync_period", lambda c: Session(output_sync_period=0)),
    Case("session-sync-inf", "output_sync_period", lambda c: Session(output_sync_period=float("inf"))),
    Case("session-sync-nan", "output_sync_period", lambda c: Session(output_sync_period=float("nan"))),
    Case("session-local-python", "local_python", lambda c: Session(local_python=str(c.tmp / "no-python"))),
    Case("session-endpoint-not-url", "endpoint", lambda c: Session(endpoint="not a url")),
    Case("session-endpoint-no-scheme", "endpoint", lambda c: Session(endpoint="modelarts.example.com")),
    Case("session-obs-endpoint-ftp", "obs_endpoint", lambda c: Session(obs_endpoint="ftp://obs.example.com")),
    Case("session-endpoint-bad-port", "endpoint", lambda c: Session(endpoint="https://host:99999")),
    Case("env-endpoint-not-url", "MODELARTS_ENDPOINT", lambda c: env_session({"MODELARTS_ENDPOINT": "not a url"})),
    Case("env-obs-endpoint-not-url", "MODELARTS_OBS_ENDPOINT", lambda c: env_session({"MODELARTS_OBS_ENDPOINT": "://"})),
    Case("env-retries-abc", "PYTEST_MODELARTS_RETRIES", lambda c: env_call({"PYTEST_MODELARTS_RETRIES": "abc"}, retry_policy)),
    Case("env-retries-negative", "PYTEST_MODELARTS_RETRIES", lambda c: env_call({"PYTEST_MODELARTS_RETRIES": "-1"}, retry_policy)),
    Case("env-http-timeout-abc", "PYTEST_MODELARTS_HTTP_TIMEOUT", lambda c: env_call({"PYTEST_MODELARTS_HTTP_TIMEOUT": "abc"}, clients)),
    Case("env-http-timeout-zero", "PYTEST_MODELARTS_HTTP_TIMEOUT", lambda c: env_call({"PYTEST_MODELARTS_HTTP_TIMEOUT": "0"}, clients)),
    Case("env-http-timeout-inf", "PYTEST_MODELARTS_HTTP_TIMEOUT", lambda c: env_call({"PYTEST_MODELARTS_HTTP_TIMEOUT": "inf"}, clients)),
    # Environment, CondaDependencies
    Case("conda-pip-str", "pip_packages", lambda c: CondaDependencies.create(pip_packages="six")),
    Case("conda-conda-str", "conda_packages", lambda c: CondaDependencies.create(conda_packages="python=3.11")),
    Case("conda-channels-str", "channels", lambda c: CondaDependencies.create(channels="conda-forge")),
    Case("conda-pip-int", "pip_packages", lambda c: CondaDependencies.create(pip_packages=[1])),
    Case("conda-pip-empty", "pip_packages", lambda c: CondaDependencies.create(pip_packages=[""])),
    Case("env-name-int", "name", lambda c: Environment(5)),
    Case("env-name-empty", "name", lambda c: Environment("")),
    Case("env-name-slash", "name", lambda c: Environment("a/b")),
    Case("env-conda-dict", "conda", lambda c: Environment("e", conda={"pip_packages": ["six"]})),
    # TrainingJob.wait
    Case("wait-timeout-str", "timeout", lambda c: started(c).wait(timeout="5")),
    Case("wait-timeout-nan", "timeout", lambda c: started(c).wait(timeout=float("nan"))),
    Case("wait-timeout-inf", "timeout", lambda c: started(c).wait(timeout=float("inf"))),
    Case("wait-timeout-negative", "timeout", lambda c: started(c).wait(timeout=-1)),
    Case("wait-timeout-bool", "timeout", lambda c: started(c).wait(timeout=True)),
]


def env_session(env: dict[str, str]) -> Any:
    return env_call(env, lambda: Session())


def retry_policy() -> Any:
    from pytest_modelarts.core.retry import RetryPolicy

    return RetryPolicy.from_env()


def clients() -> Any:
    from pytest_modelarts.backends.online.clients import Clients

    return Clients(Session(access_key="AK", secret_key="SK", project_id="p", endpoint="https://127.0.0.1:9"))


def env_call(env: dict[str, str], call: Callable[[], Any]) -> Any:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return call()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_STARTED: dict[Path, Any] = {}


def started(ctx: Ctx) -> Any:
    """A job that started (the only case where something runs: the bad value is wait()'s)."""
    (ctx.code / "train.py").write_text("print('ok')\n")
    job = est(ctx).fit(wait=False, job_name="waiting")
    _STARTED[ctx.tmp] = job
    return job


# --- the marker --------------------------------------------------------------------------------------------

def marker(ctx: Ctx, *, promote: bool = False, **kw: Any) -> Any:
    """The marker's values built as the plugin builds them at collection; an Estimator of the local configuration."""
    kw.setdefault("code_dir", str(ctx.code))
    kw.setdefault("boot_file", "train.py")
    spec = spec_from_marker((), {k: v for k, v in kw.items() if v is not DROP}, ctx.tmp)
    spec = configure(spec, ctx.session, name="gallery", promote=promote, flavor="modelarts.vm.cpu.2u")
    if spec.online_error is not None:
        raise spec.online_error
    assert spec.local is not None
    return Estimator.from_config(spec.local, ctx.session)



MARKER: list[Case] = [
    Case("marker-unknown", "boot_fle", lambda c: marker(c, boot_fle="x.py")),
    Case("marker-boot-alone", "code_dir", lambda c: marker(c, code_dir=DROP)),
    Case("marker-code-alone", "boot_file", lambda c: marker(c, boot_file=DROP)),
    Case("marker-code-missing", "code_dir", lambda c: marker(c, code_dir="nope")),
    Case("marker-boot-missing", "boot_file", lambda c: marker(c, boot_file="nope.py")),
    Case("marker-boot-int", "boot_file", lambda c: marker(c, boot_file=3)),
    Case("marker-count-zero", "train_instance_count", lambda c: marker(c, train_instance_count=0)),
    Case("marker-count-str", "train_instance_count", lambda c: marker(c, train_instance_count="2")),
    Case("marker-timeout-zero", "timeout", lambda c: marker(c, timeout=0)),
    Case("marker-timeout-str", "timeout", lambda c: marker(c, timeout="60")),
    Case("marker-timeout-nan", "timeout", lambda c: marker(c, timeout=float("nan"))),
    Case("marker-timeout-inf", "timeout", lambda c: marker(c, timeout=float("inf"))),
    Case("marker-type-local", "train_instance_type", lambda c: marker(c, train_instance_type="local")),
    Case("marker-type-empty", "train_instance_type", lambda c: marker(c, promote=True, train_instance_type=" ")),
    Case("marker-job-name-newline", "job_name", lambda c: marker(c, job_name="abc\n")),
    Case("marker-hp-label-newline", "hyperparameters", lambda c: marker(c, hyperparameters={"lr\n": 1})),
    Case("marker-hp-str", "hyperparameters", lambda c: marker(c, hyperparameters="lr=1")),
    Case("marker-smoke-hp-str", "smoke_hyperparameters", lambda c: marker(c, smoke_hyperparameters="lr=1")),
    Case("marker-inputs-int", "inputs", lambda c: marker(c, inputs=5)),
    Case("marker-output-empty", "output_path", lambda c: marker(c, output_path=" ")),
    Case("marker-env-missing-file", "environment", lambda c: marker(c, environment="nope.env.toml")),
    Case("marker-env-int", "environment", lambda c: marker(c, environment=5)),
    Case("marker-contract-v3", "contract", lambda c: marker(c, contract="v3")),
    Case("marker-backend-unknown", "backend", lambda c: marker(c, backend="nomad").fit()),
    Case("marker-obs-root-int", "obs_root", lambda c: marker(c, obs_root=5)),
    Case("marker-memory-bad", "memory", lambda c: marker(c, memory="lots")),
    Case("marker-positional-extra", "arguments", lambda c: spec_from_marker(("a", "b", "c"), {}, c.tmp)),
]


# --- job files ---------------------------------------------------------------------------------------------

def job_file(ctx: Ctx, text: str | bytes, name: str = "smoke.modelarts.toml") -> Any:
    path = ctx.tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text.replace("CODE", str(ctx.code)))
    return build_job_file(path, lambda spec, name: configure(spec, ctx.session, name=name))


JOB = '[[job]]\nname = "a"\ncode_dir = "CODE"\nboot_file = "train.py"\n'

JOBFILES: list[Case] = [
    Case("job-empty", "job", lambda c: job_file(c, "")),
    Case("job-toml-syntax", "invalid TOML", lambda c: job_file(c, "[[job]\nname=")),
    Case("job-yaml-syntax", "invalid YAML", lambda c: job_file(c, "job: [", "smoke.modelarts.yaml")),
    Case("job-binary", "not a text file", lambda c: job_file(c, b"\xff\xfe\x00\x01binary")),
    Case("job-nul", "not a text file", lambda c: job_file(c, b"[[job]]\nname = \"a\"\x00\n")),
    Case("job-top-unknown", "jobs", lambda c: job_file(c, "[[jobs]]\nname = 'a'\n")),
    Case("job-not-table", "must be a table", lambda c: job_file(c, "- a\n- b\n", "smoke.modelarts.yaml")),
    Case("job-defaults-not-table", "defaults", lambda c: job_file(c, "defaults = 3\n" + JOB)),
    Case("job-defaults-unknown", "defaults.code", lambda c: job_file(c, "[defaults]\ncode = 1\n" + JOB)),
    Case("job-no-name", "name", lambda c: job_file(c, "[[job]]\ncode_dir = 'x'\n")),
    Case("job-name-empty", "name", lambda c: job_file(c, "[[job]]\nname = ' '\n")),
    Case("job-name-twice", "used twice", lambda c: job_file(c, JOB + JOB)),
    Case("job-key-typo", "boot_fil", lambda c: job_file(c, JOB + "boot_fil = 'x'\n")),
    Case("job-no-code", "code_dir", lambda c: job_file(c, "[[job]]\nname = 'a'\n")),
    Case("job-code-missing", "code_dir", lambda c: job_file(c, JOB.replace("CODE", "nope"))),
    Case("job-boot-missing", "boot_file", lambda c: job_file(c, JOB.replace("train.py", "nope.py"))),
    Case("job-count-zero", "train_instance_count", lambda c: job_file(c, JOB + "train_instance_count = 0\n")),
    Case("job-timeout-nan", "timeout", lambda c: job_file(c, JOB + "timeout = nan\n")),
    Case("job-timeout-inf", "timeout", lambda c: job_file(c, JOB + "timeout = inf\n")),
    Case("job-timeout-negative", "timeout", lambda c: job_file(c, JOB + "timeout = -1\n")),
    Case("job-hp-label", "hyperparameters", lambda c: job_file(c, JOB + "hyperparameters = { 'a b' = 1 }\n")),
    Case("job-hp-list-str", "hyperparameters", lambda c: job_file(c, JOB + "hyperparameters = 'lr=1'\n")),
    Case("job-expect-not-table", "expect", lambda c: job_file(c, JOB + "expect = 3\n")),
    Case("job-expect-unknown", "expect.file", lambda c: job_file(c, JOB + "expect = { file = ['x'] }\n")),
    Case("job-expect-files-str", "expect.files", lambda c: job_file(c, JOB + "expect = { files = 'model.pkl' }\n")),
    Case("job-expect-metrics-bad", "expect.metrics.acc", lambda c: job_file(c, JOB + "expect = { metrics = { acc = 1 } }\n")),
    Case("job-expect-exit-str", "expect.exit_code", lambda c: job_file(c, JOB + "expect = { exit_code = '0' }\n")),
    Case("job-type-LOCAL", "train_instance_type", lambda c: job_file(c, JOB + "train_instance_type = 'local'\n")),
    Case("job-env-missing", "environment", lambda c: job_file(c, JOB + "environment = 'nope.env.toml'\n")),
    Case("job-is-directory", "cannot be read", lambda c: ((c.tmp / "d.modelarts.toml").mkdir(),
                                                          load_job_file(c.tmp / "d.modelarts.toml"))),
]


# --- environment files -------------------------------------------------------------------------------------

def env_file(ctx: Ctx, text: str | bytes, name: str = "e.env.toml") -> Any:
    path = ctx.tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return load_environment_file(path)


ENVFILES: list[Case] = [
    Case("envf-missing", "does not exist", lambda c: load_environment_file(c.tmp / "nope.env.toml")),
    Case("envf-pip-str", "pip_packages must be a list", lambda c: env_file(c, 'pip_packages = "six"\n')),
    Case("envf-conda-str", "conda_packages must be a list", lambda c: env_file(c, 'conda_packages = "python=3.11"\n')),
    Case("envf-channels-str", "channels must be a list", lambda c: env_file(c, 'channels = "conda-forge"\n')),
    Case("envf-deps-str", "dependencies must be a list", lambda c: env_file(c, "dependencies: python=3.11\n", "e.env.yml")),
    Case("envf-unknown-key", "pip", lambda c: env_file(c, 'pip = ["six"]\n')),
    Case("envf-pip-int", "pip_packages", lambda c: env_file(c, "pip_packages = [1]\n")),
    Case("envf-dep-int", "dependencies", lambda c: env_file(c, "dependencies:\n  - 3\n", "e.env.yml")),
    Case("envf-dep-bad-table", "dependencies", lambda c: env_file(c, "dependencies:\n  - {npm: [x]}\n", "e.env.yml")),
    Case("envf-not-table", "must be a table", lambda c: env_file(c, "- six\n", "e.env.yml")),
    Case("envf-toml-syntax", "invalid TOML", lambda c: env_file(c, "pip_packages = [\n")),
    Case("envf-yaml-syntax", "invalid YAML", lambda c: env_file(c, "pip_packages: [\n", "e.env.yml")),
    Case("envf-binary", "not a text file", lambda c: env_file(c, b"\x89PNG\r\n\x1a\n\x00")),
    Case("envf-name-int", "name", lambda c: env_file(c, "name = 5\npip_packages = ['six']\n")),
    Case("envf-name-slash", "name", lambda c: env_file(c, "name = 'a/b'\n")),
    Case("envf-is-directory", "does not exist", lambda c: ((c.tmp / "d.env.toml").mkdir(), load_environment_file(c.tmp / "d.env.toml"))),
]


# --- lock files --------------------------------------------------------------------------------------------

LOCK_HEAD = ("version: 1\nmetadata:\n  content_hash: {linux-64: x}\n  channels: []\n  platforms: [linux-64]\n  sources: []\n"
             "  custom_metadata:\n")


def lock_file(ctx: Ctx, text: str) -> Any:
    path = ctx.tmp / "e.conda-lock.yml"
    path.write_text(text)
    return read_lock(path)


LOCKFILES: list[Case] = [
    Case("lock-empty", "e.conda-lock.yml", lambda c: lock_file(c, "")),
    Case("lock-yaml-syntax", "e.conda-lock.yml", lambda c: lock_file(c, "version: [\n")),
    Case("lock-list", "e.conda-lock.yml", lambda c: lock_file(c, "- a\n")),
    Case("lock-version-99", "format version 99", lambda c: lock_file(c, LOCK_HEAD.replace("version: 1", "version: 99"))),
    Case("lock-version-missing", "format version None", lambda c: lock_file(c, LOCK_HEAD.replace("version: 1\n", ""))),
    Case("lock-no-metadata", "e.conda-lock.yml", lambda c: lock_file(c, "version: 1\npackage: []\n")),
    Case("lock-no-custom", "e.conda-lock.yml", lambda c: lock_file(c, LOCK_HEAD)),
    Case("lock-no-platforms", "e.conda-lock.yml", lambda c: lock_file(c, LOCK_HEAD.replace("platforms: [linux-64]", "platforms: []"))),
    Case("lock-is-directory", "is a directory", lambda c: ((c.tmp / "d.conda-lock.yml").mkdir(), read_lock(c.tmp / "d.conda-lock.yml"))),
    Case("lock-binary", "e.conda-lock.yml", lambda c: ((c.tmp / "e.conda-lock.yml").write_bytes(b"\xff\xfe\x00"),
                                                        read_lock(c.tmp / "e.conda-lock.yml"))),
    Case("lock-mode-bad", "mode", lambda c: lock_environment(CondaDependencies.create(pip_packages=["six"]), c.tmp / "x.yml", "always")),
    Case("lock-check-missing", "missing", lambda c: lock_environment(CondaDependencies.create(conda_packages=["python=3.11"]),
                                                                     c.tmp / "x.conda-lock.yml", "check", python_source="local")),
]


# --- the CLI -----------------------------------------------------------------------------------------------

def cli(ctx: Ctx, *argv: str) -> Any:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main([a.replace("TMP", str(ctx.tmp)) for a in argv])
        except SystemExit as exc:  # argparse's usage errors
            status = exc.code if isinstance(exc.code, int) else 2
    text = err.getvalue()
    if status == 0:
        return f"accepted (status 0): {out.getvalue()!r}"
    raise CliError(status, text)


class CliError(ModelArtsError):
    """What the CLI printed to stderr with a non-zero status (the gallery's stand-in for an error of ours)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"status {status}: {text}")
        self.text = text


CLIS: list[Case] = [
    Case("cli-no-command", "required", lambda c: cli(c)),
    Case("cli-unknown-command", "invalid choice", lambda c: cli(c, "deploy")),
    Case("cli-env-no-sub", "required", lambda c: cli(c, "env")),
    Case("cli-env-build-missing", "no such file", lambda c: cli(c, "env", "build", "TMP/nope.conda-lock.yml")),
    Case("cli-env-build-dir", "is a directory", lambda c: cli(c, "env", "build", "TMP")),
    Case("cli-env-build-garbage", "g.yml", lambda c: ((c.tmp / "g.yml").write_text("a: 1\n"),
                                                                     cli(c, "env", "build", "TMP/g.yml"))),
    Case("cli-env-build-binary", "conda-lock.yml", lambda c: ((c.tmp / "b.yml").write_bytes(b"\xff\x00"),
                                                              cli(c, "env", "build", "TMP/b.yml"))),
    Case("cli-gc-empty-age", "older-than", lambda c: cli(c, "gc", "--older-than=", "--cache-dir=TMP/c")),
    Case("cli-gc-negative", "older-than", lambda c: cli(c, "gc", "--older-than=-5d", "--cache-dir=TMP/c")),
    Case("cli-gc-nan", "older-than", lambda c: cli(c, "gc", "--older-than=nan", "--cache-dir=TMP/c")),
    Case("cli-gc-inf", "older-than", lambda c: cli(c, "gc", "--older-than=inf", "--cache-dir=TMP/c")),
    Case("cli-gc-word", "older-than", lambda c: cli(c, "gc", "--older-than=old", "--cache-dir=TMP/c")),
    Case("cli-gc-unit", "older-than", lambda c: cli(c, "gc", "--older-than=5y", "--cache-dir=TMP/c")),
    Case("cli-unknown-flag", "unrecognized", lambda c: cli(c, "env", "list", "--colour")),
    Case("cli-clean-extra", "unrecognized", lambda c: cli(c, "clean", "now")),
]

CASES = SDK + MARKER + JOBFILES + ENVFILES + LOCKFILES + CLIS


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    code, data = tmp_path / "code", tmp_path / "data"
    code.mkdir()
    data.mkdir()
    (code / "train.py").write_text("print('trained')\n")
    (data / "a.csv").write_text("1\n")
    runs = tmp_path / "runs-root"
    return Ctx(tmp_path, code, data, Session(local_root=runs, stream_logs=False, stop_grace_period=1.0), runs)


def run_with_limit(call: Callable[[], Any], limit: float) -> tuple[Any, BaseException | None]:
    """Call in a thread; fail on a hang (the thread is a daemon: a hung case cannot keep the run alive)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - the gallery judges every exception
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"hung: no answer within {limit:g} s")
    return box.get("value"), box.get("error")


def assert_refused_before_anything_runs(case: Case, ctx: Ctx, limit: float = LIMIT) -> None:
    """``case`` ends, within ``limit`` seconds, in an error of ours that names its needle; without a started job,
    nothing was written."""
    try:
        value, error = run_with_limit(lambda: case.call(ctx), limit)
    finally:
        job = _STARTED.pop(ctx.tmp, None)
        if job is not None:
            job.stop()
    assert error is not None, f"accepted silently: {value!r}"
    assert isinstance(error, ModelArtsError), f"not an error of ours: {type(error).__name__}: {error}"
    message = str(error)
    assert case.needle.lower() in message.lower(), f"the message does not name {case.needle!r}: {message}"
    assert "Traceback" not in message
    if job is None:  # nothing ran, nothing was written
        assert not ctx.runs.exists() or not any(ctx.runs.rglob("*")), sorted(ctx.runs.rglob("*"))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_bad_input_is_refused_clearly_before_anything_runs(case: Case, ctx: Ctx) -> None:
    assert_refused_before_anything_runs(case, ctx)


def test_the_gallery_holds_at_least_200_bad_inputs() -> None:
    from .test_option_gallery import OPTION_CASES

    assert len(CASES) + len(OPTION_CASES) >= 200
