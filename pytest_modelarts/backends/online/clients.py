"""The SDK clients of one session (ModelArts and OBS), and the call wrappers that retry and translate errors.

Every call is retried with bounded exponential backoff (the project's one retry, core.retry) on 5xx, 429,
connection errors and timeouts; other 4xx fail at once with the service's message (401/403 as
:class:`~pytest_modelarts.errors.AuthenticationError`). Tuning: ``PYTEST_MODELARTS_HTTP_TIMEOUT`` (read
timeout, seconds, default 60), ``PYTEST_MODELARTS_RETRIES`` (attempts per call, default 10). The secret key is
revealed only to build the clients; error messages are scrubbed of it.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ...core.retry import RetryPolicy, retry
from ...core.session import Session
from ...errors import AuthenticationError, ConfigurationError, OnlineError

T = TypeVar("T")
_AUTH_STATUSES = (401, 403)


class _Transient(Exception):
    """A failure worth retrying; carries the message for the final error."""

    def __init__(self, message: str, status: int | None = None, error_code: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        super().__init__(message)


def _timeout() -> float:
    text = os.environ.get("PYTEST_MODELARTS_HTTP_TIMEOUT", "60")
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"PYTEST_MODELARTS_HTTP_TIMEOUT={text!r}: must be a number of seconds > 0 (the read timeout "
                                 "of ModelArts and OBS requests; default 60)")
    return value


def _is_loopback(url: str) -> bool:
    host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Clients:
    """The SDK clients of one session, and the call wrappers that retry and translate errors.

    One set per session (:meth:`of`): every job, lookup and attach of a session shares its connections. It keeps the
    session's endpoints and credentials, not the session (so that the session's set goes with the session).
    """

    def __init__(self, session: Session, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy.from_env()
        _timeout()  # a bad PYTEST_MODELARTS_HTTP_TIMEOUT fails here, once, not as a transport error that is retried
        self.credentials = session.require_credentials("an online job")
        self.endpoint = session.endpoint
        self.obs_endpoint = session.obs_endpoint
        self.region_name = session.region_name
        self._scrub = [self.credentials.secret_key.reveal()]
        if self.credentials.security_token is not None:
            self._scrub.append(self.credentials.security_token.reveal())
        self._ma: Any = None
        self._obs: Any = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, session: Session) -> Clients:
        """The clients of ``session``, built on first use and shared by all its online jobs."""
        with _SETS_LOCK:
            clients = _SETS.get(session)
            if clients is None:
                clients = _SETS[session] = cls(session)
            return clients

    def __repr__(self) -> str:
        where = self.endpoint or f"region {self.region_name}"
        return f"<Clients {where} project={self.credentials.project_id!r}>"

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

        creds = self.credentials
        basic = BasicCredentials(creds.access_key, creds.secret_key.reveal(), creds.project_id)
        if creds.security_token is not None:
            basic = basic.with_security_token(creds.security_token.reveal())
        config = HttpConfig.get_default_config()
        config.retry_times = 0  # we retry, knowing which calls are safe to repeat
        config.timeout = (min(10.0, _timeout()), _timeout())
        builder = ModelArtsClient.new_builder().with_credentials(basic).with_http_config(config)
        if self.endpoint:
            builder = builder.with_endpoints([self.endpoint])
        else:
            from huaweicloudsdkmodelarts.v1.region.modelarts_region import ModelArtsRegion

            try:
                builder = builder.with_region(ModelArtsRegion.value_of(self.region_name))
            except (KeyError, ValueError) as exc:
                raise ConfigurationError(
                    f"unknown ModelArts region {self.region_name!r} ({exc}); pass Session(endpoint=...) "
                    "or set MODELARTS_ENDPOINT"
                ) from None
        client = builder.build()
        if _is_loopback(self.endpoint or ""):
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

                creds = self.credentials
                server = self.obs_endpoint or f"https://obs.{self.region_name}.myhuaweicloud.com"
                self._obs = ObsClient(
                    access_key_id=creds.access_key, secret_access_key=creds.secret_key.reveal(),
                    security_token=creds.security_token.reveal() if creds.security_token else None,
                    server=server, max_retry_count=0, timeout=int(_timeout()),
                )
            return self._obs

    # -- calls ----------------------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T], *, on_retry: Callable[[], T | None] | None = None) -> T:
        """Run ``fn`` with retries. ``on_retry`` runs before each new attempt; a non-None result ends the retry."""
        return self._retrying(what, lambda: self._translate(what, fn), on_retry)

    def _retrying(self, what: str, attempt: Callable[[], T], on_retry: Callable[[], T | None] | None = None) -> T:
        try:
            return retry(attempt, policy=self.policy, retry_on=_Transient, before_retry=on_retry)
        except _Transient as last:
            raise OnlineError(f"{what} failed after {self.policy.attempts} attempts: {last}",
                              status=last.status, error_code=last.error_code) from None

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

        return self._retrying(what, attempt)


#: the clients of each live session (:meth:`Clients.of`)
_SETS: weakref.WeakKeyDictionary[Session, Clients] = weakref.WeakKeyDictionary()
_SETS_LOCK = threading.Lock()
