"""The ``online`` backend: ModelArts v2 training jobs through the official SDKs.

``huaweicloudsdkmodelarts`` creates and follows the job, ``esdk-obs-python`` puts the local code directory
(and local inputs) into OBS first, under content-addressed prefixes of the output bucket::

    obs://<bucket of output_path>/pytest-modelarts/code/<sha256 of the tree>/<code dir name>/...
    obs://<bucket of output_path>/pytest-modelarts/data/<sha256 of the tree>/<input name>[/...]

An upload is skipped when its ``.complete`` marker already exists, so unchanged code is uploaded once.

The seed's parameters become the v2 job body (``huaweicloudsdkmodelarts.v1.model.Job``) as follows:

=======================================  =====================================================================
seed parameter                            v2 job body
=======================================  =====================================================================
``fit(job_name)``                         ``metadata.name``
``job_description``                       ``metadata.description``
``train_instance_type``                   ``spec.resource.flavor_id``
``train_instance_count``                  ``spec.resource.node_count``
``code_dir``                              ``algorithm.code_dir`` (obs:// as given; a local dir is uploaded)
``boot_file``                             ``algorithm.boot_file`` = code_dir URL + the boot file's path in it
``hyperparameters``                       ``algorithm.parameters`` ``[{name, value}]``; for a custom image
                                          ``algorithm.environments`` ``{label: value}`` (container variables)
``fit(inputs)``                           ``algorithm.inputs[0]`` ``{name: "data_url", remote.obs.obs_url}``
``fit(dataset_id, dataset_version_id)``   ``algorithm.inputs[0]`` ``{name: "data_url", remote.dataset{id, version_id}}``
``output_path``                           ``algorithm.outputs[0]`` ``{name: "train_url", remote.obs.obs_url}``
``log_url``                               ``spec.log_export_path.obs_url``
``framework_type``/``framework_version``  ``algorithm.engine.engine_name`` / ``engine_version``
``user_image_url``                        ``algorithm.engine.image_url``
``user_command``                          ``algorithm.command``
``model_name``                            ``algorithm.id`` (an algorithm from algorithm management)
``environment``                           its pip packages, pinned from the committed lock when there is one,
                                          become ``pip-requirements.txt`` in the uploaded code dir (preset
                                          images install it before the boot file); not when the code dir has a
                                          requirements file of its own. Conda packages are the engine's or the
                                          image's business (``framework_type``/``user_image_url``)
``fit(data_source)``                      not supported online (a ParameterError)
=======================================  =====================================================================

Resilience: every call is retried with bounded exponential backoff on 5xx, 429, connection errors and
timeouts; other 4xx fail at once with the service's message (401/403 as
:class:`~pytest_modelarts.errors.AuthenticationError`). Creating a job is the one call that is not
idempotent: after an ambiguous failure the job is first looked up by name (and creation time) and adopted
if it exists, so a retry never creates a second job. Tuning (environment variables):
``PYTEST_MODELARTS_HTTP_TIMEOUT`` (read timeout, seconds, default 60), ``PYTEST_MODELARTS_RETRIES``
(attempts per call, default 10).

Secrets: the secret key is revealed only to build the SDK clients; error messages are built from the
service's answer and scrubbed of the key anyway.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import tempfile
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .. import contract
from ..errors import AuthenticationError, ConfigurationError, OnlineError, ParameterError
from ..hookspecs import hookimpl
from ..job import JobPhase
from .base import Backend, Execution

if TYPE_CHECKING:
    from ..config import JobConfig
    from ..envs.runtime import PythonRuntime
    from ..session import Session

T = TypeVar("T")
OBS_PREFIX = "pytest-modelarts"
COMPLETE_MARKER = ".complete"
#: how far back (ms) a job found by name may have been created to count as ours after an ambiguous create
ADOPT_WINDOW_MS = 10 * 60 * 1000
_AUTH_STATUSES = (401, 403)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter."""

    attempts: int = 10
    base_delay: float = 0.25
    max_delay: float = 8.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        raw = os.environ.get("PYTEST_MODELARTS_RETRIES")
        return cls(attempts=max(1, int(raw))) if raw else cls()

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2)


class _Transient(Exception):
    """A failure worth retrying; carries the message for the final error."""

    def __init__(self, message: str, status: int | None = None, error_code: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        super().__init__(message)


def _timeout() -> float:
    return float(os.environ.get("PYTEST_MODELARTS_HTTP_TIMEOUT", "60"))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def split_obs_url(url: str) -> tuple[str, str]:
    """``obs://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    bucket, _, key = url.removeprefix("obs://").partition("/")
    return bucket, key


class _Clients:
    """The SDK clients of one session, and the call wrappers that retry and translate errors."""

    def __init__(self, session: Session, policy: RetryPolicy | None = None) -> None:
        self.session = session
        self.policy = policy or RetryPolicy.from_env()
        creds = session.require_credentials("an online job")
        self._scrub = [creds.secret_key.reveal()]
        if creds.security_token is not None:
            self._scrub.append(creds.security_token.reveal())
        self._ma: Any = None
        self._obs: Any = None
        self._lock = threading.Lock()

    def clean(self, text: str) -> str:
        for secret in self._scrub:
            if secret:
                text = text.replace(secret, "***")
        return text

    # -- clients --------------------------------------------------------------------------------------
    @property
    def modelarts(self) -> Any:
        with self._lock:
            if self._ma is None:
                self._ma = self._build_modelarts()
            return self._ma

    def _build_modelarts(self) -> Any:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkmodelarts.v1 import ModelArtsClient

        creds = self.session.require_credentials("an online job")
        basic = BasicCredentials(creds.access_key, creds.secret_key.reveal(), creds.project_id)
        if creds.security_token is not None:
            basic = basic.with_security_token(creds.security_token.reveal())
        config = HttpConfig.get_default_config()
        config.retry_times = 0  # we retry, knowing which calls are safe to repeat
        config.timeout = (min(10.0, _timeout()), _timeout())
        builder = ModelArtsClient.new_builder().with_credentials(basic).with_http_config(config)
        if self.session.endpoint:
            builder = builder.with_endpoints([self.session.endpoint])
        else:
            from huaweicloudsdkmodelarts.v1.region.modelarts_region import ModelArtsRegion

            try:
                builder = builder.with_region(ModelArtsRegion.value_of(self.session.region_name))
            except (KeyError, ValueError) as exc:
                raise ConfigurationError(
                    f"unknown ModelArts region {self.session.region_name!r} ({exc}); pass Session(endpoint=...) "
                    "or set MODELARTS_ENDPOINT"
                ) from None
        client = builder.build()
        if _is_loopback(self.session.endpoint or ""):
            # the emulator: never through a proxy from the environment
            http = getattr(client.get_http_client(), "_session", None)
            if http is not None:
                http.trust_env = False
        return client

    @property
    def obs(self) -> Any:
        with self._lock:
            if self._obs is None:
                from obs import ObsClient

                creds = self.session.require_credentials("an online job")
                server = self.session.obs_endpoint or f"https://obs.{self.session.region_name}.myhuaweicloud.com"
                self._obs = ObsClient(
                    access_key_id=creds.access_key, secret_access_key=creds.secret_key.reveal(),
                    security_token=creds.security_token.reveal() if creds.security_token else None,
                    server=server, max_retry_count=0, timeout=int(_timeout()),
                )
            return self._obs

    # -- calls ----------------------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T], *, on_retry: Callable[[], T | None] | None = None) -> T:
        """Run ``fn`` with retries. ``on_retry`` runs before each new attempt; a non-None result ends the retry."""
        last: _Transient | None = None
        for attempt in range(self.policy.attempts):
            if attempt:
                time.sleep(self.policy.delay(attempt - 1))
                if on_retry is not None:
                    found = on_retry()
                    if found is not None:
                        return found
            try:
                return self._translate(what, fn)
            except _Transient as exc:
                last = exc
        assert last is not None
        raise OnlineError(f"{what} failed after {self.policy.attempts} attempts: {last}",
                          status=last.status, error_code=last.error_code)

    def _translate(self, what: str, fn: Callable[[], T]) -> T:
        import requests
        from huaweicloudsdkcore.exceptions import exceptions as sdk

        try:
            return fn()
        except sdk.ServiceResponseException as exc:
            status = int(exc.status_code) if exc.status_code is not None else None
            message = self.clean(f"{exc.error_code}: {exc.error_msg}")
            if status is not None and (status >= 500 or status == 429):
                raise _Transient(f"HTTP {status} {message}", status, exc.error_code) from None
            cls = AuthenticationError if status in _AUTH_STATUSES else OnlineError
            hint = " (check the access key, secret key and project id)" if cls is AuthenticationError else ""
            raise cls(f"{what} was refused: HTTP {status} {message}{hint}", status=status, error_code=exc.error_code) from None
        except (sdk.ConnectionException, sdk.RequestTimeoutException, requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(self.clean(f"{type(exc).__name__}: {exc}")) from None
        except sdk.SdkException as exc:
            raise OnlineError(self.clean(f"{what} failed: {exc}")) from None

    def obs_call(self, what: str, fn: Callable[[], Any], *, ok_statuses: tuple[int, ...] = ()) -> Any:
        """Call the OBS client (which answers with a status instead of raising) with retries."""

        def attempt() -> Any:
            try:
                resp = fn()
            except OSError as exc:  # connection refused / reset / timed out
                raise _Transient(self.clean(f"{type(exc).__name__}: {exc}")) from None
            except Exception as exc:  # the OBS SDK re-raises transport errors of many kinds
                raise _Transient(self.clean(f"{type(exc).__name__}: {exc}")) from None
            status = getattr(resp, "status", None)
            if status is None:
                raise _Transient(self.clean(f"no response ({getattr(resp, 'reason', '')})"))
            if status < 300 or status in ok_statuses:
                return resp
            if resp.errorCode is None and status in _AUTH_STATUSES:  # HEAD answers carry no error document
                message = "access denied"
            else:
                message = self.clean(f"{resp.errorCode}: {resp.errorMessage}")
            if status >= 500 or status == 429:
                raise _Transient(f"HTTP {status} {message}", status, resp.errorCode)
            cls = AuthenticationError if status in _AUTH_STATUSES and resp.errorCode in (
                "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", None) else OnlineError
            hint = " (check the access key and secret key)" if cls is AuthenticationError else ""
            raise cls(f"{what} was refused by OBS: HTTP {status} {message}{hint}", status=status, error_code=resp.errorCode)

        last: _Transient | None = None
        for n in range(self.policy.attempts):
            if n:
                time.sleep(self.policy.delay(n - 1))
            try:
                return attempt()
            except _Transient as exc:
                last = exc
        assert last is not None
        raise OnlineError(f"{what} failed after {self.policy.attempts} attempts: {last}", status=last.status,
                          error_code=last.error_code)

    def close(self) -> None:
        if self._obs is not None:
            try:
                self._obs.close()
            except Exception:
                pass


# -- OBS uploads ---------------------------------------------------------------------------------------------

def upload_tree(clients: _Clients, local: Path, bucket: str, kind: str) -> str:
    """Upload a file or directory under ``pytest-modelarts/<kind>/<sha256>/<name>``; return its obs:// URL."""
    from ..promotion import tree_hash

    digest = tree_hash(local)
    base = f"{OBS_PREFIX}/{kind}/{digest}"
    prefix = f"{base}/{local.name}"
    url = f"obs://{bucket}/{prefix}" + ("/" if local.is_dir() else "")
    marker = clients.obs_call(f"checking obs://{bucket}/{base}/{COMPLETE_MARKER}",
                              lambda: clients.obs.getObjectMetadata(bucket, f"{base}/{COMPLETE_MARKER}"), ok_statuses=(404,))
    if marker.status < 300:
        return url
    files = [local] if local.is_file() else sorted(
        p for p in local.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"))
    for path in files:
        key = prefix if local.is_file() else f"{prefix}/{path.relative_to(local).as_posix()}"
        clients.obs_call(f"uploading {path} to obs://{bucket}/{key}",
                         lambda key=key, path=path: clients.obs.putFile(bucket, key, str(path)))
    clients.obs_call(f"uploading obs://{bucket}/{base}/{COMPLETE_MARKER}",
                     lambda: clients.obs.putContent(bucket, f"{base}/{COMPLETE_MARKER}", digest))
    return url


def online_requirements(config: JobConfig) -> str | None:
    """The ``pip-requirements.txt`` an online job needs for its Environment, or None.

    Pinned ``name==version`` from the environment's lock when it exists (no hashes: the online image may be
    another Python or platform than the lock's wheels), else the spec's pip packages as given.
    """
    env = config.environment
    if env is None or env.conda is None or not env.conda.pip_packages:
        return None
    from ..envs.lock import read_lock, spec_hash

    locked = read_lock(env.default_lock_path())
    fresh = locked is not None and locked.spec_hash == spec_hash(env.conda, locked.python_source, locked.platform)
    lines = [f"{p.name}=={p.version}" for p in locked.pip] if fresh else list(env.conda.pip_packages)
    return "# written by pytest-modelarts from environment %r\n%s\n" % (env.name, "\n".join(lines))


@contextlib.contextmanager
def code_with_requirements(config: JobConfig) -> Iterator[Path]:
    """The code dir to upload: as it is, or a copy with the Environment's ``pip-requirements.txt`` added."""
    assert config.code_path is not None
    requirements = online_requirements(config)
    own = [n for n in contract.REQUIREMENTS_FILES if (config.code_path / n).is_file()]
    if requirements is None or own:
        yield config.code_path
        return
    with tempfile.TemporaryDirectory(prefix="pytest-modelarts-code-") as tmp:
        staged = Path(tmp) / config.code_path.name
        shutil.copytree(config.code_path, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
        (staged / contract.REQUIREMENTS_FILES[0]).write_text(requirements)
        yield staged


# -- the v2 job body -----------------------------------------------------------------------------------------

def build_job_body(config: JobConfig, *, code_url: str | None, inputs_url: str | None) -> Any:
    """The ``huaweicloudsdkmodelarts`` ``Job`` for ``config`` (see the module docstring for the mapping)."""
    from huaweicloudsdkmodelarts.v1 import model as m

    algorithm = m.JobAlgorithm()
    if config.model_name is not None:
        algorithm.id = config.model_name
    if code_url is not None:
        algorithm.code_dir = code_url if code_url.endswith("/") else code_url + "/"
        if config.boot_file is not None:
            algorithm.boot_file = algorithm.code_dir + config.boot_file
    if config.is_custom_image:
        algorithm.engine = m.JobEngine(image_url=config.user_image_url)
        algorithm.command = config.user_command
        if config.hyperparameters:
            algorithm.environments = dict(config.hyperparameters)
    else:
        if config.framework_type is not None:
            algorithm.engine = m.JobEngine(engine_name=config.framework_type, engine_version=config.framework_version)
        if config.hyperparameters:
            algorithm.parameters = [m.Parameters(name=k, value=v) for k, v in config.hyperparameters]
    if inputs_url is not None:
        algorithm.inputs = [m.Input(name="data_url", remote=m.InputDataInfo(obs=m.InputDataInfoObs(obs_url=inputs_url)))]
    elif config.dataset_id is not None:
        algorithm.inputs = [m.Input(name="data_url", remote=m.InputDataInfo(
            dataset=m.InputDataInfoDataset(id=config.dataset_id, version_id=config.dataset_version_id)))]
    if config.output_path is not None:
        out = config.output_path if config.output_path.endswith("/") else config.output_path + "/"
        algorithm.outputs = [m.Output(name="train_url", remote=m.Remote(obs=m.RemoteObs(obs_url=out)))]
    spec = m.Spec(resource=m.SpecResource(flavor_id=config.train_instance_type, node_count=config.train_instance_count))
    if config.log_url is not None:
        spec.log_export_path = m.LogExportPath(obs_url=config.log_url if config.log_url.endswith("/") else config.log_url + "/")
    return m.Job(kind="job", metadata=m.JobMetadata(name=config.job_name, description=config.job_description),
                 algorithm=algorithm, spec=spec)


# -- the backend ---------------------------------------------------------------------------------------------

class OnlineBackend(Backend):
    """Runs jobs on ModelArts (or on the project's emulator, with ``Session(endpoint=..., obs_endpoint=...)``)."""

    name = "online"
    needs_runtime = False

    def validate(self, config: JobConfig) -> None:
        self.session.require_credentials("an online job")
        if not (self.session.endpoint or self.session.region_name):
            raise ConfigurationError(
                "an online job needs a region or an endpoint: pass Session(region_name=...) or set "
                "HUAWEICLOUD_SDK_REGION, or Session(endpoint=...) / MODELARTS_ENDPOINT"
            )
        if config.is_local:
            raise ParameterError("Estimator", "train_instance_type", config.train_instance_type,
                                 "is 'local': the online backend needs a ModelArts flavor such as 'modelarts.vm.cpu.2u'")
        if not (config.output_path or "").startswith("obs://") or not split_obs_url(config.output_path or "")[0]:
            raise ParameterError("Estimator", "output_path", config.output_path,
                                 "an online job needs an obs:// directory for its outputs, e.g. 'obs://bucket/job/output/'")
        if config.log_url is not None and not config.log_url.startswith("obs://"):
            raise ParameterError("Estimator", "log_url", config.log_url, "an online job exports its logs to an obs:// directory")
        if config.data_source is not None:
            raise ParameterError("fit", "data_source", config.data_source,
                                 "is not supported by the online backend; give inputs or dataset_id + dataset_version_id")
        if config.inputs is None and config.dataset_id is None:
            raise ParameterError("fit", "inputs", None, "an online job needs inputs (obs:// or local) or dataset_id + dataset_version_id")
        uploads = config.code_path is not None or (config.inputs is not None and not config.inputs.startswith("obs://"))
        if uploads and not (self.session.obs_endpoint or self.session.region_name):
            raise ConfigurationError(
                "uploading local code or inputs needs OBS: pass Session(obs_endpoint=...) or set MODELARTS_OBS_ENDPOINT, "
                "or a region (Session(region_name=...))"
            )

    def start(self, config: JobConfig, runtime: PythonRuntime | None = None, *, job_id: str) -> OnlineExecution:
        clients = _Clients(self.session)
        bucket = split_obs_url(config.output_path or "")[0]
        code_url = config.code_dir
        if config.code_path is not None:
            with code_with_requirements(config) as code:
                code_url = upload_tree(clients, code, bucket, "code")
        inputs_url = config.inputs
        if inputs_url is not None and not inputs_url.startswith("obs://"):
            local = Path(inputs_url.removeprefix("file://")).expanduser()
            inputs_url = upload_tree(clients, local, bucket, "data")
        body = build_job_body(config, code_url=code_url, inputs_url=inputs_url)
        online_id = create_job(clients, body)
        return OnlineExecution(clients, online_id, config, body=body)

    def attach(self, online_job_id: str, config: JobConfig) -> OnlineExecution:
        """Follow a job created earlier (e.g. by a previous promotion)."""
        return OnlineExecution(_Clients(self.session), online_job_id, config)


def create_job(clients: _Clients, body: Any) -> str:
    """Create the job; after an ambiguous failure adopt the job of that name instead of creating another."""
    from huaweicloudsdkmodelarts.v1 import model as m

    name = body.metadata.name
    since = int(time.time() * 1000) - ADOPT_WINDOW_MS

    def existing() -> str | None:
        return find_job_by_name(clients, name, created_after=since)

    resp = clients.call(f"creating training job {name!r}",
                        lambda: clients.modelarts.create_training_job(m.CreateTrainingJobRequest(body=body)),
                        on_retry=existing)
    return resp if isinstance(resp, str) else resp.metadata.id


def find_job_by_name(clients: _Clients, name: str, *, created_after: int = 0) -> str | None:
    """The id of the newest job named ``name`` created after ``created_after`` (ms), or None."""
    from huaweicloudsdkmodelarts.v1 import model as m

    request = m.ListTrainingJobsRequest(body=m.JobSearches(
        offset=0, limit=50, filters=[m.Filter(key="name", operator="like", value=[name])]))
    resp = clients.call(f"looking up training job {name!r}", lambda: clients.modelarts.list_training_jobs(request))
    for item in resp.items or []:
        meta = item.metadata
        if meta is not None and meta.name == name and (meta.create_time or 0) >= created_after:
            return str(meta.id)
    return None


class OnlineExecution(Execution):
    """A ModelArts training job, followed through the v2 API."""

    #: polling starts fast and slows down to this many seconds
    max_poll_interval = 10.0

    def __init__(self, clients: _Clients, online_id: str, config: JobConfig, *, body: Any = None) -> None:
        self._clients = clients
        self.online_id = online_id
        self.service_job_id = online_id
        self.config = config
        self._body = body
        self._doc: Any = None
        self._tasks: list[str] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<OnlineExecution {self.online_id} {self.config.job_name!r}>"

    def _refresh(self) -> Any:
        from huaweicloudsdkmodelarts.v1 import model as m

        doc = self._clients.call(
            f"reading training job {self.online_id}",
            lambda: self._clients.modelarts.show_training_job_details(m.ShowTrainingJobDetailsRequest(training_job_id=self.online_id)))
        with self._lock:
            self._doc = doc
        return doc

    def phase(self) -> JobPhase:
        doc = self._refresh()
        raw = doc.status.phase if doc.status is not None else None
        try:
            return JobPhase(raw)
        except ValueError:
            return JobPhase.CREATING if raw in (None, "Init", "Queuing") else JobPhase.ABNORMAL

    def wait(self, timeout: float | None = None) -> JobPhase:
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 0.2
        while True:
            phase = self.phase()
            if phase.is_final:
                return phase
            if deadline is not None and time.monotonic() >= deadline:
                return phase
            pause = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            interval = min(self.max_poll_interval, interval * 1.5)

    def stop(self) -> None:
        from huaweicloudsdkmodelarts.v1 import model as m

        if self.phase().is_final:
            return
        self._clients.call(
            f"stopping training job {self.online_id}",
            lambda: self._clients.modelarts.stop_training_job(m.StopTrainingJobRequest(
                training_job_id=self.online_id, body=m.JobActionType(action_type="terminate"))))
        self.wait(120)

    @property
    def exit_code(self) -> int | None:
        doc = self._doc or self._refresh()
        statuses = (doc.status.task_statuses if doc.status is not None else None) or []
        codes = [s.exit_code for s in statuses if s.exit_code is not None]
        return next((c for c in codes if c != 0), codes[0] if codes else None)

    @property
    def failure_reason(self) -> str | None:
        doc = self._doc
        if doc is None or doc.status is None or doc.status.phase not in ("Failed", "Abnormal"):
            return None
        messages = [s.message for s in doc.status.task_statuses or [] if s.message]
        return messages[0] if messages else doc.status.secondary_phase

    def log_names(self) -> list[str]:
        from huaweicloudsdkmodelarts.v1 import model as m

        if self._tasks:
            return list(self._tasks)
        resp = self._clients.call(
            f"listing the tasks of training job {self.online_id}",
            lambda: self._clients.modelarts.list_training_job_tasks(m.ListTrainingJobTasksRequest(training_job_id=self.online_id)))
        tasks = [t.task for t in resp.body or [] if t.task]
        if tasks:
            self._tasks = tasks
            return list(tasks)
        return [f"worker-{i}" for i in range(self.config.train_instance_count)]

    def read_log(self, name: str | None = None, offset: int = 0, size: int | None = None) -> bytes:
        from huaweicloudsdkmodelarts.v1 import model as m

        task = name or self.log_names()[0]
        resp = self._clients.call(
            f"reading the log of {task} of training job {self.online_id}",
            lambda: self._clients.modelarts.show_training_job_logs_preview(
                m.ShowTrainingJobLogsPreviewRequest(training_job_id=self.online_id, task_id=task)))
        data = (resp.content or "").encode()
        return data[offset:] if size is None else data[offset: offset + size]

    @property
    def output_location(self) -> str | None:
        return self.config.output_path

    def info(self) -> dict[str, Any]:
        doc = self._doc or self._refresh()
        status = doc.status
        algorithm = doc.algorithm
        return {
            "job_id": self.online_id,
            "online_job_id": self.online_id,
            "phase": status.phase if status else None,
            "secondary_phase": status.secondary_phase if status else None,
            "online_duration_ms": status.duration if status else None,
            "code_dir": algorithm.code_dir if algorithm else None,
            "boot_file": algorithm.boot_file if algorithm else None,
            "endpoint": self._clients.session.endpoint,
        }


@hookimpl
def pytest_modelarts_register_backends(registry) -> None:  # type: ignore[no-untyped-def]
    registry.register(OnlineBackend)


__all__ = ["OnlineBackend", "OnlineExecution", "RetryPolicy", "build_job_body", "create_job", "find_job_by_name",
           "upload_tree"]
