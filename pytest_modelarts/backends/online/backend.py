"""The ``online`` backend: ModelArts v2 training jobs through the official SDKs (docs/online.md).

It carries a job's plan out through the API: local code and inputs go to OBS (:mod:`.uploads`, content-addressed),
the plan becomes the v2 job body (:mod:`.body`, the mapping table is in docs/online.md), the job is created and
followed (:mod:`.execution`) with the session's one set of clients (:mod:`.clients`: retries, errors, secrets).

Creating a job is the one call that is not idempotent: after an ambiguous failure the job is first looked up by name
and adopted if it exists, so a retry never creates a second job. A job counts as the request's when it was created at
most :data:`ADOPT_WINDOW_S` before the request (the service's clock may be behind ours): the one window of both this
retry and promotion's adoption of an interrupted submission (:meth:`OnlineBackend.find_job`).
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

if TYPE_CHECKING:
    from ...core.plan import JobPlan
    from .clients import Clients
    from .execution import OnlineExecution

# the clients, the execution and the uploads (requests, the Huawei SDK's modules) are imported where an online job
# starts: every run registers this backend, most never use it

#: how long (seconds) before our create request a job found by its name may have been created and still count as the
#: one that request created (the service's clock may be behind ours)
ADOPT_WINDOW_S = 10 * 60.0


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

    def start(self, plan: JobPlan) -> OnlineExecution:
        from .clients import Clients
        from .execution import OnlineExecution
        from .uploads import code_with_requirements, upload_tree

        config = plan.config
        clients = Clients.of(self.session)
        assert config.output_path is not None
        bucket = config.output_path.bucket
        code_url: str | None = config.code_dir
        if config.code_path is not None:
            with code_with_requirements(config) as code:
                code_url = upload_tree(clients, code, bucket, "code")
        inputs_url: str | None = config.inputs
        if config.inputs is not None and config.inputs.is_local:
            inputs_url = upload_tree(clients, CodeTree(config.inputs.path), bucket, "data")
        body = build_job_body(plan, code_url=code_url, inputs_url=inputs_url)
        online_id = create_job(clients, body)
        return OnlineExecution(clients, online_id, config, body=body)

    def attach(self, online_job_id: str, config: JobConfig) -> OnlineExecution:
        """Follow a job created earlier (e.g. by a previous promotion)."""
        from .clients import Clients
        from .execution import OnlineExecution

        return OnlineExecution(Clients.of(self.session), online_job_id, config)

    def find_job(self, name: str, *, created_after: float = 0.0) -> str | None:
        """The id of the newest job named ``name`` that a create request sent at ``created_after`` (seconds since the
        epoch) may have created: created at most :data:`ADOPT_WINDOW_S` before it. None when there is none.

        Promotion calls it for a ledger record whose create request never got its answer.
        """
        from .clients import Clients

        return find_job_by_name(Clients.of(self.session), name, sent_at=created_after)


def create_job(clients: Clients, body: Any) -> str:
    """Create the job; after an ambiguous failure adopt the job of that name instead of creating another."""
    from huaweicloudsdkmodelarts.v1 import model as m

    name = body.metadata.name
    sent_at = time.time()

    def existing() -> str | None:
        return find_job_by_name(clients, name, sent_at=sent_at)

    resp = clients.call(f"creating training job {name!r}",
                        lambda: clients.modelarts.create_training_job(m.CreateTrainingJobRequest(body=body)),
                        on_retry=existing)
    return resp if isinstance(resp, str) else resp.metadata.id


def find_job_by_name(clients: Clients, name: str, *, sent_at: float) -> str | None:
    """The id of the newest job named ``name`` that a create request sent at ``sent_at`` (seconds since the epoch)
    may have created (:data:`ADOPT_WINDOW_S`), or None."""
    from huaweicloudsdkmodelarts.v1 import model as m

    created_after = int((sent_at - ADOPT_WINDOW_S) * 1000) if sent_at > 0 else 0
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
