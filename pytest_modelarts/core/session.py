"""``Session``: who is asking (credentials, project, region) and how local runs are set up.

For local work ``Session()`` needs no argument, as in a ModelArts notebook. For online work the credentials
come from the arguments or from ``HUAWEICLOUD_SDK_AK`` / ``HUAWEICLOUD_SDK_SK`` /
``HUAWEICLOUD_SDK_PROJECT_ID`` (and ``HUAWEICLOUD_SDK_REGION``). Secrets live in :class:`Credentials`, which
never shows them: not in ``repr``, ``str``, logs or error messages.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from ..errors import ConfigurationError, ParameterError
from .contract import Version
from .objectstore import LocalObs
from .pathcheck import check_path, seconds_problem

if TYPE_CHECKING:
    import pluggy


class _Choice(str, enum.Enum):
    """A setting with a fixed set of values; parsing names the owner, the parameter and the valid values."""

    @classmethod
    def parse(cls, value: object, owner: str, parameter: str) -> Self:
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            raise ParameterError(owner, parameter, value, f"must be one of {', '.join(m.value for m in cls)}") from None

    def __str__(self) -> str:
        return str(self.value)


class LockMode(_Choice):
    """What to do with an environment's ``conda-lock.yml``."""

    CREATE = "create"  #: lock when the file is missing or was made from another spec; use it otherwise
    CHECK = "check"  #: CI: a missing or stale lock is an error; never re-lock
    UPDATE = "update"  #: re-solve and rewrite the lock


class PythonSource(_Choice):
    """Where a locked environment's ``python`` comes from."""

    CONDA = "conda"  #: a conda package (the default)
    LOCAL = "local"  #: a local interpreter that satisfies the spec, through a uv venv (the explicit fast path)

    @classmethod
    def resolve(cls, requested: PythonSource | str | None, owner: str = "Session") -> PythonSource:
        """``requested``, else ``$PYTEST_MODELARTS_PYTHON``, else ``conda``."""
        if requested is not None:
            return cls.parse(requested, owner, "python_source")
        from_env = os.environ.get(PYTHON_SOURCE_ENV)
        return cls.parse(from_env, "environment variable", PYTHON_SOURCE_ENV) if from_env else cls.CONDA


#: the environment variable that picks :class:`PythonSource` when nothing else does
PYTHON_SOURCE_ENV = "PYTEST_MODELARTS_PYTHON"
#: the user ModelArts runs a job as: ``ma-user``, uid 1000, group ``users`` (100), as its custom images document
DEFAULT_RUN_USER = (1000, 100)
RUN_USER_HELP = "must be 'root', a uid such as 1000 or 1102, or 'uid:gid'"


def parse_run_user(value: object, owner: str = "Session", parameter: str = "run_user") -> tuple[int, int]:
    """``"root"`` or 0 -> (0, 0); ``1000`` or ``"1102"`` -> (uid, 100); ``"uid:gid"`` -> (uid, gid)."""
    if value == "root":
        return 0, 0
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return (value, 0) if value == 0 else (value, DEFAULT_RUN_USER[1])
    if isinstance(value, str):
        uid, _, gid = value.partition(":")
        if uid.isdigit() and (gid.isdigit() or not gid):
            return int(uid), int(gid) if gid else (0 if int(uid) == 0 else DEFAULT_RUN_USER[1])
    raise ParameterError(owner, parameter, value, RUN_USER_HELP)


class ProgressSink(Protocol):
    """Where the long steps of a run (locking, building, starting a job) are told as they happen.

    ``begin(message)`` says a step is under way (a live line on a terminal); ``end()`` says the innermost step is
    over; ``line(message)`` is a finished line: a step done, with its time, or a fact. Calls may come from any thread.
    """

    def begin(self, message: str) -> None: ...

    def end(self) -> None: ...

    def line(self, message: str) -> None: ...


class Secret:
    """A string that does not show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # pickling (xdist) keeps the value, it never prints it
        return (Secret, (self._value,))


@dataclass(frozen=True)
class Credentials:
    """Access key, secret key and project of a Huawei Cloud account."""

    access_key: str
    secret_key: Secret
    project_id: str | None = None
    security_token: Secret | None = None

    def __repr__(self) -> str:
        ak = self.access_key[:4] + "***" if len(self.access_key) > 4 else "***"
        return f"Credentials(access_key={ak!r}, secret_key='***', project_id={self.project_id!r})"


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


class Session:
    """The ModelArts session.

    ``Session()`` is enough for local runs. Keyword-only arguments of our own configure local runs:

    ``local_python``
        interpreter for jobs whose Environment lists no packages (default: the current one). Such runs are
        labelled *unisolated*.
    ``local_root``
        where run sandboxes (and default outputs) go; default ``./.modelarts``.
    ``cache_dir``
        where locked environments are built; default the platform's user cache dir.
    ``lock_mode``
        ``create`` (default), ``check`` or ``update``; see :class:`LockMode`.
    ``python_source``
        where a locked environment's ``python`` comes from (:class:`PythonSource`): ``"conda"`` (a conda
        package, the default) or ``"local"`` (a local interpreter that satisfies the spec, through a uv venv:
        the fast path when the conda packages pin only ``python``). None: ``$PYTEST_MODELARTS_PYTHON``, else
        ``conda``.
    ``docker_image``
        the image (with python) that runs boot-file jobs on the ``docker`` backend when the job gives no
        ``user_image_url``; None: ``$PYTEST_MODELARTS_DOCKER_IMAGE``.
    ``sandbox``
        run each local worker as a ModelArts node in a sandbox (bubblewrap in a user namespace: the container's
        paths, its user, a ``/cache`` and a network of its own; docs/sandbox.md). None (default): where this
        machine allows it, else the relocated mode with a line saying which guarantees are off (an error when
        ``$PYTEST_MODELARTS_REQUIRE_SANDBOX=1``); True: required; False: the relocated mode.
    ``run_user``
        the user a job runs as: ``1000`` (``ma-user``, the default), ``1102``, ``"root"`` or ``"uid:gid"``.
    ``contract``
        ``"v2"`` (new-version training, the default) or ``"v1"`` (old jobs: ``/home/work``, ``DLS_*``, ``obs://``
        URLs as ``--data_url``/``--train_url``); a job's own ``contract=`` wins (docs/contract.md).
    ``output_sync_period``
        seconds between the copies of a running job's outputs to ``output_path`` (default 30, as ModelArts uploads
        them ``upload_periodically``); None: only at the end.
    ``obs_root``
        a local OBS: a folder whose sub-folders are buckets, or ``{"bucket": folder}``
        (:class:`~pytest_modelarts.core.objectstore.LocalObs`); jobs reach it through ``moxing`` and ``obs://``.
    ``stream_logs``
        echo job output live to this process's stdout (default True).
    ``stop_grace_period``
        seconds between SIGTERM and SIGKILL when a job is stopped (default 5).
    ``progress``
        where locking and building an environment tell their steps (a :class:`ProgressSink`); None (default): one
        line per step on stderr, with a spinner on a terminal. The pytest plugin passes pytest's terminal reporter.
    """

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        project_id: str | None = None,
        region_name: str | None = None,
        *,
        security_token: str | None = None,
        endpoint: str | None = None,
        obs_endpoint: str | None = None,
        local_python: str | os.PathLike[str] | None = None,
        local_root: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        lock_mode: str | LockMode = LockMode.CREATE,
        python_source: PythonSource | str | None = None,
        docker_image: str | None = None,
        sandbox: bool | None = None,
        run_user: str | int = DEFAULT_RUN_USER[0],
        contract: str = "v2",
        obs_root: object = None,
        output_sync_period: float | None = 30.0,
        stream_logs: bool = True,
        stop_grace_period: float = 5.0,
        progress: ProgressSink | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> None:
        ak = access_key or _env("HUAWEICLOUD_SDK_AK")
        sk = secret_key or _env("HUAWEICLOUD_SDK_SK")
        if (ak is None) != (sk is None):
            missing = "secret_key" if sk is None else "access_key"
            raise ParameterError(
                "Session", missing, None,
                "access_key and secret_key go together (or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK)",
            )
        token = security_token or _env("HUAWEICLOUD_SDK_SECURITY_TOKEN")
        self.credentials: Credentials | None = (
            Credentials(ak, Secret(sk), project_id or _env("HUAWEICLOUD_SDK_PROJECT_ID"), Secret(token) if token else None)
            if ak and sk else None
        )
        self.region_name = region_name or _env("HUAWEICLOUD_SDK_REGION")
        self.endpoint = _endpoint("endpoint", endpoint, "MODELARTS_ENDPOINT")
        self.obs_endpoint = _endpoint("obs_endpoint", obs_endpoint, "MODELARTS_OBS_ENDPOINT")
        self.local_python = Path(local_python) if local_python else Path(sys.executable)
        if local_python is not None and not os.access(self.local_python, os.X_OK):
            raise ParameterError("Session", "local_python", str(local_python), "must be an executable Python interpreter")
        for name, folder in (("local_root", local_root), ("cache_dir", cache_dir)):
            if folder is not None and folder != "":  # refused before anything is made under it (see .pathcheck)
                check_path("Session", name, folder, written=True)
        self.local_root = Path(local_root) if local_root else Path.cwd() / ".modelarts"
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.lock_mode = LockMode.parse(lock_mode, "Session", "lock_mode")
        self.python_source = PythonSource.parse(python_source, "Session", "python_source") if python_source is not None else None
        if docker_image is not None and (not isinstance(docker_image, str) or not docker_image.strip()):
            raise ParameterError("Session", "docker_image", docker_image, "must be an image reference such as 'my/python:3.11'")
        self.docker_image = docker_image
        if sandbox is not None and not isinstance(sandbox, bool):
            raise ParameterError("Session", "sandbox", sandbox, "must be None (where available), True (required) or False")
        self.sandbox = sandbox
        self.run_user = parse_run_user(run_user)
        self.contract = Version.parse(contract, "Session")
        if output_sync_period is not None and seconds_problem(output_sync_period, zero=False) is not None:
            raise ParameterError("Session", "output_sync_period", output_sync_period, "must be a number of seconds > 0, or None")
        self.output_sync_period = float(output_sync_period) if output_sync_period is not None else None
        self.obs_root = LocalObs.parse(obs_root)
        if not isinstance(stream_logs, bool):
            raise ParameterError("Session", "stream_logs", stream_logs, "must be a bool")
        grace = seconds_problem(stop_grace_period, zero=True)
        if grace is not None:
            raise ParameterError("Session", "stop_grace_period", stop_grace_period, f"{grace}: give a number of seconds >= 0")
        self.stream_logs = stream_logs
        self.stop_grace_period = float(stop_grace_period)
        #: the plugin manager whose backends and hooks this session's jobs use (pytest's, under pytest); None:
        #: the SDK's own (see :func:`pytest_modelarts.core.runner.plugin_manager_of`)
        self.plugin_manager = plugin_manager
        self.progress = progress

    @property
    def project_id(self) -> str | None:
        return self.credentials.project_id if self.credentials else None

    def require_credentials(self, purpose: str) -> Credentials:
        if self.credentials is None:
            raise ConfigurationError(
                f"{purpose} needs credentials: pass Session(access_key=..., secret_key=..., project_id=...) "
                "or set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID"
            )
        if not self.credentials.project_id:
            raise ConfigurationError(f"{purpose} needs a project: pass Session(project_id=...) or set HUAWEICLOUD_SDK_PROJECT_ID")
        return self.credentials

    def __repr__(self) -> str:
        who = repr(self.credentials) if self.credentials else "local"
        return f"Session({who}, region_name={self.region_name!r})"



def _endpoint(name: str, given: str | None, variable: str) -> str | None:
    """An endpoint given or from ``variable``: an http(s) URL with a host (``https://modelarts.example.com``)."""
    from urllib.parse import urlsplit

    value = given or _env(variable)
    if value is None:
        return None
    where = f"Session({name}=...)" if given else f"${variable}"
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        ok = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a bad port
        ok = False
    if not ok or any(c.isspace() for c in str(value)):
        raise ParameterError("Session", name, value, f"{where} must be an http(s) URL such as 'https://modelarts.cn-north-4."
                             "myhuaweicloud.com' (or unset it and give a region)")
    return value
