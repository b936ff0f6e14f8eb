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
(the local run's working directory)       ``algorithm.working_dir``: ``/home/ma-user/modelarts/user-job-dir``
                                          for a boot file, ``/home/ma-user`` for a custom image
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

import time
from typing import TYPE_CHECKING, Any

from ...core.backend import Backend, BackendRegistry
from ...core.codetree import CodeTree
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...errors import ConfigurationError, ParameterError
from .body import build_job_body, environment_problems
from .clients import Clients
from .execution import OnlineExecution
from .uploads import code_with_requirements, upload_tree

if TYPE_CHECKING:
    from ...core.runtime import PythonRuntime

#: how far back (ms) a job found by name may have been created to count as ours after an ambiguous create
ADOPT_WINDOW_MS = 10 * 60 * 1000


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
        if config.output_path is None or config.output_path.scheme != "obs" or not config.output_path.bucket:
            raise ParameterError("Estimator", "output_path", config.output_path,
                                 "an online job needs an obs:// directory for its outputs, e.g. 'obs://bucket/job/output/'")
        if config.log_url is not None and config.log_url.scheme != "obs":
            raise ParameterError("Estimator", "log_url", config.log_url, "an online job exports its logs to an obs:// directory")
        if config.data_source is not None:
            raise ParameterError("fit", "data_source", config.data_source,
                                 "is not supported by the online backend; give inputs or dataset_id + dataset_version_id")
        if config.inputs is None and config.dataset_id is None:
            raise ParameterError("fit", "inputs", None, "an online job needs inputs (obs:// or local) or dataset_id + dataset_version_id")
        if config.is_custom_image and config.hyperparameters:
            problems = environment_problems(config.hyperparameters)
            if problems:
                raise ParameterError("Estimator", "hyperparameters", config.hyperparameters.as_sdk(),
                                     "a custom image receives them as environment variables (algorithm.environments), "
                                     "which ModelArts refuses: " + "; ".join(problems))
        uploads = config.code_path is not None or (config.inputs is not None and config.inputs.is_local)
        if uploads and not (self.session.obs_endpoint or self.session.region_name):
            raise ConfigurationError(
                "uploading local code or inputs needs OBS: pass Session(obs_endpoint=...) or set MODELARTS_OBS_ENDPOINT, "
                "or a region (Session(region_name=...))"
            )

    def start(self, config: JobConfig, runtime: PythonRuntime | None = None, *, job_id: str) -> OnlineExecution:
        clients = Clients(self.session)
        assert config.output_path is not None
        bucket = config.output_path.bucket
        code_url: str | None = config.code_dir
        if config.code_path is not None:
            with code_with_requirements(config) as code:
                code_url = upload_tree(clients, code, bucket, "code")
        inputs_url: str | None = config.inputs
        if config.inputs is not None and config.inputs.is_local:
            inputs_url = upload_tree(clients, CodeTree(config.inputs.path), bucket, "data")
        body = build_job_body(config, code_url=code_url, inputs_url=inputs_url)
        online_id = create_job(clients, body)
        return OnlineExecution(clients, online_id, config, body=body)

    def attach(self, online_job_id: str, config: JobConfig) -> OnlineExecution:
        """Follow a job created earlier (e.g. by a previous promotion)."""
        return OnlineExecution(Clients(self.session), online_job_id, config)

    def find_job(self, name: str, *, created_after: float = 0.0) -> str | None:
        """The id of the newest job named ``name`` created after ``created_after`` (seconds since the epoch), or None.

        Promotion calls it for a ledger record whose create request never got its answer.
        """
        return find_job_by_name(Clients(self.session), name, created_after=int(created_after * 1000))


def create_job(clients: Clients, body: Any) -> str:
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


def find_job_by_name(clients: Clients, name: str, *, created_after: int = 0) -> str | None:
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


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(OnlineBackend)
