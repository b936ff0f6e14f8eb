"""The emulator's HTTP servers: one for the ModelArts API, one for OBS, both on loopback."""

from __future__ import annotations

import http.server
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .faults import Fault, FaultInjector
from .modelarts import TrainingService, api_error
from .obs import ObsStore, Response, obs_error
from .signing import SignatureError, verify_apig, verify_obs

APIG_AUTH_ERROR = ("APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: tests capture output
        pass

    def _serve(self) -> None:
        emulator = self.server.emulator
        service = self.server.service
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        with emulator.lock:
            emulator.requests[service] += 1
        fault = emulator.faults.draw(service, self.command, url.path)
        if fault is not None and not fault.after:
            return self._fail(fault, service)
        response = emulator.dispatch(service, self.command, url.path, url.query, dict(self.headers.items()), body)
        if fault is not None and fault.kind == "slow":  # the work is done; the answer is late
            time.sleep(fault.delay)
        elif fault is not None:
            return self._fail(fault, service)
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout, or a killed process)
            self.close_connection = True

    def _fail(self, fault: Fault, service: str) -> None:
        if fault.status is None:  # drop: close without a word
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        message = "Too Many Requests" if fault.status == 429 else "injected server error"
        if service == "modelarts":
            code = "APIGW.0308" if fault.status == 429 else "ModelArts.0001"
            response = api_error(fault.status, code, message)
        else:
            response = obs_error(fault.status, "SlowDown" if fault.status == 429 else "InternalError", message)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        head = self.command == "HEAD"  # the length of what a GET would answer, and no body
        self.send_header("Content-Length", response.headers.get("Content-Length", "0") if head else str(len(response.body)))
        self.end_headers()
        if response.body and not head:
            self.wfile.write(response.body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator, service: str) -> None:
        self.emulator = emulator
        self.service = service
        super().__init__(address, _Handler)


class Emulator:
    """ModelArts v2 training jobs and OBS objects on ``127.0.0.1``, for tests and CI.

    ``Emulator(access_key, secret_key, project_id, root=...)`` then :meth:`start` (or use it as a context
    manager). Requests must be signed with the given keys. Jobs really run (see
    :mod:`pytest_modelarts.emulator.runner`); ``phase_delay`` is how long Creating and Pending (secondary phase Queuing) last.
    ``faults`` (:class:`~pytest_modelarts.emulator.faults.FaultInjector`) makes requests fail on demand.
    """

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        project_id: str,
        *,
        root: str | Path | None = None,
        buckets: tuple[str, ...] = ("modelarts-emulator",),
        host: str = "127.0.0.1",
        port: int = 0,
        obs_port: int = 0,
        phase_delay: float = 0.2,
        python: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.access_key = access_key
        self._secret_key = secret_key
        self.project_id = project_id
        self._tmp = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="modelarts-emulator-")
            root = self._tmp.name
        self.root = Path(root)
        self.obs_root = self.root / "obs"
        self.store = ObsStore(self.obs_root)
        for bucket in buckets:
            self.store.create_bucket(bucket)
        self.buckets = tuple(buckets)
        self.faults = FaultInjector(seed=seed)
        #: requests received per service (faulty ones included)
        self.requests = {"modelarts": 0, "obs": 0}
        self.lock = threading.Lock()
        self.training = TrainingService(project_id=project_id, store=self.store, work_root=self.root / "jobs",
                                        phase_delay=phase_delay, python=python)
        self._host, self._port, self._obs_port = host, port, obs_port
        self._servers: list[_Server] = []

    def __repr__(self) -> str:
        state = f"endpoint={self.endpoint!r}" if self._servers else "stopped"
        return f"<Emulator {state} project_id={self.project_id!r}>"

    # the secret key is never shown; reveal it on purpose
    @property
    def secret_key(self) -> str:
        return self._secret_key

    @property
    def endpoint(self) -> str:
        return f"http://{self._host}:{self._servers[0].server_address[1]}"

    @property
    def obs_endpoint(self) -> str:
        return f"http://{self._host}:{self._servers[1].server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment variables that point the SDK (and ``Session()``) at this emulator, its keys included."""
        return {"MODELARTS_ENDPOINT": self.endpoint, "MODELARTS_OBS_ENDPOINT": self.obs_endpoint,
                "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id, "HUAWEICLOUD_SDK_AK": self.access_key,
                "HUAWEICLOUD_SDK_SK": self._secret_key}

    def start(self) -> Emulator:
        for service, port in (("modelarts", self._port), ("obs", self._obs_port)):
            server = _Server((self._host, port), self, service)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"emulator-{service}", daemon=True)
            thread.start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        jobs = list(self.training.jobs.values())
        for job in jobs:  # a finished job ignores the stop
            job.stop()
        for job in jobs:
            job.join(30)
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, service: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Response:
        if service == "modelarts":
            try:
                verify_apig(method, path, query, headers, body, self.access_key, self._secret_key)
            except SignatureError:
                return api_error(401, *APIG_AUTH_ERROR)
            return self.training.handle(method, path, query, body)
        try:
            verify_obs(method, path, query, headers, self.access_key, self._secret_key)
        except SignatureError as exc:
            if exc.unknown_key:
                return obs_error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
            return obs_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                             "signature you provided. Check your key and signing method.")
        return self.store.handle(method, path, query, headers, body)

    # -- inspection helpers ---------------------------------------------------------------------------
    def jobs(self) -> list[dict[str, Any]]:
        """Every job's v2 document, oldest first, plus ``emulator.history`` (the phases it went through) and
        ``emulator.phases`` (the same as ``[phase, secondary_phase]`` pairs)."""
        return [{**job.document(), "emulator": {"history": list(job.history), "phases": [list(p) for p in job.phases], "error": job.error}}
                for job in sorted(self.training.jobs.values(), key=lambda j: j.create_time)]

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until no job is running (for tests that inspect outputs)."""
        deadline = time.monotonic() + timeout
        for job in list(self.training.jobs.values()):
            job.join(max(0.0, deadline - time.monotonic()))


__all__ = ["Emulator"]
