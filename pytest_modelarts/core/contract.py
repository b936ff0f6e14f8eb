"""The ModelArts training-container contract: the one module that knows it (docs/contract.md, with sources).

A ModelArts v2 ("new version") training container lays its files out under ``MA_MOUNT_PATH``, downloads the code
directory into ``${MA_JOB_DIR}/<code dir name>``, the inputs into ``inputs/data_url_<i>``, uploads
``outputs/train_url_<i>`` during and after the run, and starts
``python ${MA_JOB_DIR}/<code dir name>/<boot file> --data_url=... --train_url=... --<label>=<value> ...`` with the
``MA_*`` and ``VC_*`` variables set. An old (v1) container, on request (:class:`Version`), lived in ``/home/work``,
was given ``obs://`` URLs and set ``DLS_*``: one :class:`Contract` object per version knows what differs. A job's
:class:`~pytest_modelarts.core.plan.JobPlan` is built from it, so that a sandboxed node, the relocated fallback, a
Docker container and the emulator agree.

Decisions where the documentation is silent are listed in docs/contract.md: the working directory is
``MA_JOB_DIR``; ``--num_gpus=<n>`` follows the hyperparameters of a v1 job only; ``PYTHONUNBUFFERED=1``; the caller's environment
does not leak in beyond :data:`PASSTHROUGH` (and a package install's beyond :data:`INSTALLER_PASSTHROUGH`).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from ..errors import ParameterError

MA_HOME = PurePosixPath("/home/ma-user")
#: old (v1) jobs ran as ``work`` in /home/work, the code in /home/work/user-job-dir/<code> (docs/contract.md)
V1_HOME = PurePosixPath("/home/work")
MOUNT_DIR = "modelarts"
JOB_DIR = "user-job-dir"
LOG_DIR = "log"
INPUTS_DIR = "inputs"
OUTPUTS_DIR = "outputs"
TASK_NAME = "worker"
#: the port old (v1) jobs advertised in ``BATCH_CUSTOM<i>_HOSTS``; also the rendezvous port we suggest.
WORKER_PORT = 6666
#: names the preset images look for, in this order, to ``pip install -r`` before the boot file.
REQUIREMENTS_FILES = ("pip-requirements.txt", "pip-requirement.txt", "requirement.txt", "requirements.txt")
#: ModelArts limits on the code directory: files and folders, depth, size (the user guide's "creating an
#: algorithm" and "creating a training job" pages; the first counts "files and folders", the second adds depth)
MAX_CODE_ENTRIES = 1000
MAX_CODE_DEPTH = 32
MAX_CODE_BYTES = 5 * 1024**3
#: ModelArts caps a job's log at 1 GiB: beyond it, output is dropped and the job runs on (troubleshooting page
#: "size of the log file has reached the limit")
MAX_LOG_BYTES = 1024**3
#: another cap than ModelArts' on each worker's log, in bytes (for tests of the cap, mostly)
LOG_LIMIT_VARIABLE = "PYTEST_MODELARTS_LOG_LIMIT"


def log_limit() -> int:
    """The cap on each worker's log: ``$PYTEST_MODELARTS_LOG_LIMIT`` bytes, else ModelArts' 1 GiB."""
    raw = os.environ.get(LOG_LIMIT_VARIABLE)
    if not raw:
        return MAX_LOG_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ParameterError("environment", LOG_LIMIT_VARIABLE, raw, "must be a number of bytes >= 1")
    return int(raw)
#: exit code of a container killed by the kernel's OOM killer.
OOM_EXIT_CODE = 137
#: variables taken from the caller's environment; everything else is the contract's.
PASSTHROUGH = (
    "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
    "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: a preset image's interpreter lives in ``${MA_HOME}/anaconda`` ("PATH=${MA_HOME}/anaconda/bin:${PATH}", CUSTOM)
ANACONDA_DIR = "anaconda"
#: a preset image's other library folders, after the interpreter's (the variables page's LD_LIBRARY_PATH example)
PRESET_LIBRARY_DIRS = ("/usr/local/cuda/lib64", "/usr/local/cuda/compat", "/usr/local/nvidia/lib", "/usr/local/nvidia/lib64")
#: ``LIBRARY_PATH`` of a preset image (the variables page)
PRESET_STATIC_LIBRARY_PATH = "/usr/local/cuda/lib64/stubs"
#: MA_PIP_URL where the caller names no index (PIP_INDEX_URL): the job's pip mirror is PyPI here
DEFAULT_PIP_URL = "https://pypi.org/simple/"

_HYPERPARAMETER_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def valid_hyperparameter_label(label: str) -> bool:
    """A label usable both as ``--label=value`` and as a container environment variable name."""
    return bool(_HYPERPARAMETER_LABEL.fullmatch(label))


class Version(str, enum.Enum):
    """Which ModelArts training the contract reproduces: the new-version (v2) container, the default, or the old (v1)."""

    V2 = "v2"
    V1 = "v1"

    @classmethod
    def parse(cls, value: object, owner: str, parameter: str = "contract") -> Version:
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            raise ParameterError(owner, parameter, value, "must be 'v2' (new-version training, the default) or 'v1'") from None

    @property
    def contract(self) -> Contract:
        """The contract of this version: what its container looks like."""
        return V1_CONTRACT if self is Version.V1 else V2_CONTRACT

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Layout:
    """Where the contract's directories are, as seen by the job: v2 ``/home/ma-user/modelarts/...``, v1 ``/home/work/...``."""

    home: PurePosixPath
    mount_name: str = MOUNT_DIR  # "" for v1: its user-job-dir lies in the home itself

    @property
    def mount(self) -> PurePosixPath:
        return self.home / self.mount_name if self.mount_name else self.home

    @property
    def job_dir(self) -> PurePosixPath:
        return self.mount / JOB_DIR

    @property
    def log_dir(self) -> PurePosixPath:
        return self.mount / LOG_DIR

    @property
    def inputs_dir(self) -> PurePosixPath:
        return self.mount / INPUTS_DIR

    @property
    def outputs_dir(self) -> PurePosixPath:
        return self.mount / OUTPUTS_DIR

    def code_dir(self, code_dir_name: str) -> PurePosixPath:
        return self.job_dir / code_dir_name

    def data_url(self, index: int = 0) -> PurePosixPath:
        return self.inputs_dir / f"data_url_{index}"

    def train_url(self, index: int = 0) -> PurePosixPath:
        return self.outputs_dir / f"train_url_{index}"

    def directories(self) -> list[PurePosixPath]:
        """Directories that exist before the job starts."""
        return [self.home, self.job_dir, self.log_dir, self.data_url(), self.train_url()]


def vj_name(job_id: str) -> str:
    """``MA_VJ_NAME``: the volcano job name of a training job."""
    return f"modelarts-job-{job_id}"


def worker_hostnames(job_id: str, count: int) -> list[str]:
    """Host names of the workers inside the job's network: ``${MA_VJ_NAME}-worker-<i>.${MA_VJ_NAME}``."""
    vj = vj_name(job_id)
    return [f"{vj}-{TASK_NAME}-{i}.{vj}" for i in range(count)]


def loopback_hosts(count: int) -> list[str]:
    """Addresses that stand in for worker host names when workers are local processes."""
    if count > 254:
        raise ValueError("at most 254 local worker processes")
    return [f"127.0.0.{i + 1}" for i in range(count)]


def platform_arguments(layout: Layout, hyperparameters: Sequence[tuple[str, str]], num_gpus: int | None = None,
                       data_url: str | None = None, train_url: str | None = None) -> list[str]:
    """What the platform appends to a job's command: ``--data_url=.. --train_url=.. --<label>=<value>``, and
    ``--num_gpus=<n>`` where ``num_gpus`` is given (the old platform's, :attr:`Contract.num_gpus_argument`).

    ``data_url`` defaults to the inputs directory (a job whose input is one file gets that file's path); v1 jobs
    get ``obs://`` URLs for both instead.
    """
    argv = [f"--data_url={data_url or layout.data_url()}", f"--train_url={train_url or layout.train_url()}"]
    argv += [f"--{label}={value}" for label, value in hyperparameters]
    if num_gpus is not None:
        argv.append(f"--num_gpus={num_gpus}")
    return argv


@dataclass(frozen=True)
class ObjectUrls:
    """What a job whose contract gives ``obs://`` URLs (v1) gets: ``DLS_APP_URL``, ``DLS_DATA_URL``, ``DLS_TRAIN_URL``,
    and the arguments."""

    app: str
    data: str
    train: str


@dataclass(frozen=True)
class Worker:
    """One worker, as the contract's variables name it: its job, index and peers, address, GPUs, code, pip mirror,
    a v1 job's ``obs://`` locations, and the endpoints (OBS, API gateway) where there are any to name."""

    job_id: str
    index: int
    hosts: tuple[str, ...]
    current_ip: str
    num_gpus: int
    code: PurePosixPath
    pip_url: str
    urls: ObjectUrls | None
    endpoints: Mapping[str, str]


class Contract:
    """What the container of one ModelArts training version looks like: the one place that knows how v2 and v1 differ.

    :data:`V2_CONTRACT` (new-version training, the default) and :data:`V1_CONTRACT` (old jobs, on request); a
    :class:`Version` names one (``Version.V1.contract``).
    """

    version: Version
    home: PurePosixPath
    mount_name: str
    #: the account the container's user is known by (its uid is the job's run user)
    user_name: str
    #: True where ``--data_url``/``--train_url`` and the ``DLS_*_URL`` variables are ``obs://`` URLs, not paths
    object_urls: bool
    #: True where promotion can submit such a job (online jobs are new-version)
    submittable: bool
    #: True where the platform appends ``--num_gpus=<n>`` to the boot file's arguments: the old platform did (a Huawei
    #: maintainer's answer in huaweicloud/dls-example#7); the new one does not: its user guide's own example boot file
    #: parses its arguments strictly (docs/contract.md, "--num_gpus")
    num_gpus_argument: bool
    #: True where the job's scheduler is Volcano, whose svc plugin writes ``/etc/volcano/<task>.host`` (new-version jobs)
    volcano: bool
    #: True where a preset engine's ``run_user`` (the v2 API's) is the user the job runs as
    engine_run_user: bool

    def layout(self) -> Layout:
        """The container's paths."""
        return Layout(self.home, self.mount_name)

    def local_layout(self, root: os.PathLike[str] | str) -> Layout:
        """The container's tree under ``root`` on this machine (what a relocated process sees)."""
        return Layout(PurePosixPath(os.fspath(root)) / "home", self.mount_name)

    def variables(self, layout: Layout, worker: Worker) -> dict[str, str]:
        """The contract's own variables of one worker (``PATH`` and ``PYTHONPATH`` are the plan's)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<contract {self.version}>"


class V2Contract(Contract):
    version, home, mount_name, user_name, object_urls, submittable = Version.V2, MA_HOME, MOUNT_DIR, "ma-user", False, True
    num_gpus_argument, volcano, engine_run_user = False, True, True

    def variables(self, layout: Layout, worker: Worker) -> dict[str, str]:
        """The variables of a v2 container, as the user guide's page on training-container variables lists them."""
        vj = vj_name(worker.job_id)
        count = len(worker.hosts)
        return {
            "HOME": str(layout.home),
            "MA_HOME": str(layout.home),
            "MA_MOUNT_PATH": str(layout.mount),
            "MA_JOB_DIR": str(layout.job_dir),
            "MA_LOG_DIR": str(layout.log_dir),
            "MA_SCRIPT_INTERPRETER": "",
            "WORKSPACE": str(worker.code),
            "MA_CURRENT_IP": worker.current_ip,
            "MA_NUM_GPUS": str(worker.num_gpus),
            "MA_TASK_NAME": TASK_NAME,
            "MA_NUM_HOSTS": str(count),
            "VC_TASK_INDEX": str(worker.index),
            "VC_WORKER_NUM": str(count),
            "VC_WORKER_HOSTS": ",".join(worker.hosts),
            "MA_CURRENT_INSTANCE_NAME": f"{vj}-{TASK_NAME}-{worker.index}",
            "MA_VJ_NAME": vj,  # named by the troubleshooting page's migration recipe, not by the variables page
            "MA_PIP_URL": worker.pip_url,
            "MA_PIP_HOST": urlsplit(worker.pip_url).hostname or "",
            "MA_DETECT_TRAIN_INJECT_CODE": "1",
            **worker.endpoints,
        }


class V1Contract(Contract):
    version, home, mount_name, user_name, object_urls, submittable = Version.V1, V1_HOME, "", "work", True, False
    num_gpus_argument, volcano, engine_run_user = True, False, False

    def variables(self, layout: Layout, worker: Worker) -> dict[str, str]:
        """The variables of an old (v1) container: DLS_* and BATCH_CUSTOM<i>_HOSTS, locations as obs:// URLs."""
        urls = worker.urls
        assert urls is not None, "a v1 job's locations are obs:// URLs"
        variables = {
            "HOME": str(layout.home),
            "DLS_TASK_INDEX": str(worker.index),
            "DLS_TASK_NUMBER": str(len(worker.hosts)),
            "DLS_APP_URL": urls.app,
            "DLS_DATA_URL": urls.data,
            "DLS_TRAIN_URL": urls.train,
        }
        for i, host in enumerate(worker.hosts):
            variables[f"BATCH_CUSTOM{i}_HOSTS"] = f"{host}:{WORKER_PORT}"
        return variables


V2_CONTRACT: Contract = V2Contract()
V1_CONTRACT: Contract = V1Contract()


#: what a package installer (uv, pip) may see of the caller's environment besides PASSTHROUGH: where it finds
#: itself, its cache, certificates and index settings. Never cloud keys: online, the image's pip never sees them.
INSTALLER_PASSTHROUGH = ("PATH", "HOME", "USER", "TMPDIR", "XDG_CACHE_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR",
                         "REQUESTS_CA_BUNDLE", "NETRC", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST",
                         "PIP_FIND_LINKS", "PIP_CERT", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
                         "UV_CACHE_DIR", "UV_NATIVE_TLS", "UV_OFFLINE", "UV_FIND_LINKS")


def installer_environment(inherit: Mapping[str, str]) -> dict[str, str]:
    """The environment of a package install (a requirements file, an environment's build): nothing else leaks in."""
    return {name: inherit[name] for name in (*PASSTHROUGH, *INSTALLER_PASSTHROUGH) if name in inherit}


def requirements_file(code_files: Sequence[str]) -> str | None:
    """The requirements file a preset image would install from, given the code directory's top-level names."""
    for name in REQUIREMENTS_FILES:
        if name in code_files:
            return name
    return None
