"""An online training job, followed through the v2 API."""

from __future__ import annotations

import threading
import time
from typing import Any

from ...core.backend import Execution
from ...core.job import JobConfig
from ...core.phase import JobPhase
from .clients import Clients

#: keys of ``info()`` taken from the service's document that replace the handle's own only when the service tells them
_FROM_SERVICE = ("job_name", "create_time", "train_instance_type", "train_instance_count")


class OnlineExecution(Execution):
    """A ModelArts training job, followed through the v2 API."""

    #: polling starts fast and slows down to this many seconds
    max_poll_interval = 10.0

    def __init__(self, clients: Clients, online_id: str, config: JobConfig, *, body: Any = None) -> None:
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
        # the SDK is untyped; its model documents both fields as str
        messages: list[str] = [s.message for s in doc.status.task_statuses or [] if s.message]
        secondary_phase: str | None = doc.status.secondary_phase
        return messages[0] if messages else secondary_phase

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
        meta = doc.metadata
        resource = doc.spec.resource if doc.spec is not None else None
        info: dict[str, Any] = {
            "job_id": self.online_id,
            "online_job_id": self.online_id,
            "phase": status.phase if status else None,
            "secondary_phase": status.secondary_phase if status else None,
            "online_duration_ms": status.duration if status else None,
            "start_time": status.start_time if status else None,  # epoch ms, 0 until it runs
            "failure_reason": self.failure_reason,
            "code_dir": algorithm.code_dir if algorithm else None,
            "boot_file": algorithm.boot_file if algorithm else None,
            "endpoint": self._clients.endpoint,
        }
        # what the service says wins over the handle's configuration (an attached job's is only a handle)
        if meta is not None:
            info.update(job_name=meta.name, create_time=meta.create_time)
        if resource is not None:
            info.update(train_instance_type=resource.flavor_id, train_instance_count=resource.node_count)
        return {k: v for k, v in info.items() if v is not None or k not in _FROM_SERVICE}
