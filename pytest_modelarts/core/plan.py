"""``JobPlan``: one job as ModelArts would run it, decided once and carried out by every backend.

The runner builds it from the job's configuration, the contract of its version (:mod:`.contract`) and its runtime
(the locked environment's interpreter, or the image's). It says, for each worker, the argv, the environment, the
host name, the working directory and the user; for the job, its mounts (code, inputs, outputs, ``/cache``,
``/dev/shm``, ModelArts' own libraries), its network, GPUs and limits, the requirements step and the log header.
A backend only carries it out: sandboxed processes (``local``), containers (``docker``), the ModelArts API
(``online``, which reads the configuration it holds). What may differ between backends is listed, with the reason,
in docs/contract.md ("Deliberate differences"), and ``tests/docker/test_plan_parity.py`` holds them to it.

A worker's address is its network's (a node's bridge, a Docker subnet, loopback), so :meth:`JobPlan.environment`
takes it; everything else is the plan's.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from . import contract as ct
from . import flavors as fl
from .commands import command_argv, host_gpus, memory_bytes
from .engines import Engine
from .engines import find as find_engine
from .objectstore import ENV_VARIABLE as OBS_VARIABLE
from .objectstore import LocalObs
from .piplayer import LAYER_DIR, LAYER_INSIDE, UV_INSIDE, PipLayer
from .piplayer import switched_on as pip_index_switched_on

if TYPE_CHECKING:
    from .job import JobConfig
    from .runtime import PythonRuntime
    from .session import Session

#: where ModelArts' own libraries (moxing) live for local jobs: on every preset-image job's PYTHONPATH, at this path
#: in every backend (a node binds it, a container mounts it), imported by none of our code
JOB_SITE = Path(__file__).resolve().parents[1] / "job_site"
#: a job's requirements file is installed here, under its sandbox, and put on PYTHONPATH
REQUIREMENTS_SITE = "requirements-site"
#: ``/dev/shm`` of every worker: a tmpfs of this size (the fault-tolerance check of ModelArts wants more than 1 GiB;
#: PyTorch's DataLoader workers exchange batches through it) — see docs/contract.md
SHM_BYTES = 8 * 1024**3
#: a v1 job's own bucket in the local OBS: ``<prefix>-<job id>``
JOB_BUCKET_PREFIX = "modelarts-local"
CACHE_PATH = PurePosixPath("/cache")
#: where Volcano's svc plugin puts a job's host files, ``<task>.host``: one host name a line (docs/contract.md)
VOLCANO_PATH = PurePosixPath("/etc/volcano")


class Network(str, enum.Enum):
    """What a job's workers reach: each other only (the default, as on ModelArts), loopback only, or also the outside
    (``ContainerOptions.network_mode``: None, ``"none"``, ``"host"``)."""

    PRIVATE = "private"
    NONE = "none"
    OUTSIDE = "outside"


@dataclass(frozen=True)
class Mount:
    """A folder (or file) of this machine that the job sees at the same path, or at ``at``."""

    path: Path
    writable: bool
    at: PurePosixPath | None = None

    @property
    def inside(self) -> PurePosixPath:
        """Where the job sees it."""
        return self.at if self.at is not None else PurePosixPath(self.path)


@dataclass(frozen=True)
class JobPlan:
    """The job, decided: build it with :func:`plan_job`; backends read it and carry it out."""

    config: JobConfig
    job_id: str
    contract: ct.Contract
    runtime: PythonRuntime | None
    sandbox_root: Path
    user: tuple[int, int]
    network: Network
    num_gpus: int
    #: the requirements file the platform installs before the boot file (preset images), None without one
    requirements: str | None
    endpoints: Mapping[str, str]
    #: the name of the input file, when the inputs name one file (``--data_url`` then points at it); None otherwise
    input_file: str | None
    #: the caller's environment, of which the contract keeps only :data:`~.contract.PASSTHROUGH`
    inherit: Mapping[str, str] = field(repr=False)
    shm_bytes: int = SHM_BYTES
    #: a worker's CPUs and memory (``"512m"``), where the job limits them (``ContainerOptions``)
    cpus: float | None = None
    memory: str | None = None
    #: the job's flavor and the limits it gives every worker (:mod:`.flavors`); ``cpus``/``memory`` are its values
    limits: fl.Limits = fl.Limits()
    #: what a GPU flavor's run does instead on a machine without its GPUs (one line in the log), None otherwise
    gpu_note: str | None = None
    #: where a boot file's ``pip install`` goes (:mod:`.piplayer`); None where the interpreter is an image's
    pip_layer: PipLayer | None = None

    @property
    def engine(self) -> Engine | None:
        """The preset engine the job names (``framework_type``/``framework_version``), if any."""
        return engine_of(self.config)

    # -- the job ------------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self.config.train_instance_count

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every worker's host name, ``${MA_VJ_NAME}-worker-<i>.${MA_VJ_NAME}``."""
        return tuple(ct.worker_hostnames(self.job_id, self.count))

    def host_names(self, addresses: Sequence[str]) -> dict[str, str]:
        """Every worker's full and short host name, to its address on the job's network (what ``/etc/hosts`` says)."""
        return {name: address for host, address in zip(self.hosts, addresses, strict=True) for name in (host, host.split(".")[0])}

    @property
    def custom_image(self) -> bool:
        return self.config.is_custom_image

    @property
    def code_name(self) -> str:
        return self.config.code_dir_name

    @property
    def layout(self) -> ct.Layout:
        """The container's paths."""
        return self.contract.layout()

    def working_dir(self, layout: ct.Layout | None = None) -> PurePosixPath:
        """``MA_JOB_DIR`` for a boot file; ``/home/ma-user`` for a custom image ("the boot command must be executed in
        the /home/ma-user directory")."""
        layout = layout or self.layout
        return layout.home if self.custom_image else layout.job_dir

    @property
    def requirements_site(self) -> Path:
        """Where the requirements file is installed (the same path in every backend), on PYTHONPATH."""
        return self.sandbox_root / REQUIREMENTS_SITE

    @property
    def job_bucket(self) -> str | None:
        """The bucket of the local OBS that serves a v1 job's code, inputs and outputs as ``obs://`` URLs."""
        return f"{JOB_BUCKET_PREFIX}-{self.job_id}" if self.contract.object_urls else None

    def mounts(self) -> list[Mount]:
        """What every backend puts at the same path beside the contract's tree (which it lays out itself): ModelArts'
        libraries and the requirements' site (read-only), and the local OBS's folders (writable)."""
        site = [self.requirements_site] if self.requirements is not None else []
        found = [] if self.custom_image else [Mount(path, writable=False) for path in (JOB_SITE, *site)]
        layer = self.pip_layer
        if layer is not None:  # the job's own pip and where it installs; the uv it runs
            found += [Mount(layer.uv, writable=False, at=UV_INSIDE), Mount(layer.root, writable=True, at=LAYER_INSIDE)]
        obs = self.config.local_obs
        return found + [Mount(folder, writable=True) for folder in (obs.folders() if obs is not None else ())]

    @property
    def volcano_dir(self) -> Path:
        """Where the job's ``/etc/volcano`` files are written on this machine (under its sandbox: ``etc/volcano``)."""
        return self.sandbox_root / "etc" / "volcano"

    def volcano_files(self) -> dict[str, str]:
        """The files of ``/etc/volcano`` of a v2 job (its scheduler is Volcano): ``worker.host``, every worker's host
        name, one a line, in index order; none for v1."""
        if not self.contract.volcano:
            return {}
        return {f"{ct.TASK_NAME}.host": "".join(f"{host}\n" for host in self.hosts)}

    def header(self, where: str) -> str:
        """The first line of every worker's log: the job, what runs it, where, and the contract."""
        what = self.runtime.describe() if self.runtime is not None else "its image's interpreter"
        more = [line for line in (self.limits.header(), self.gpu_note) if line]
        return (f"[pytest-modelarts] job {self.config.job_name} ({self.job_id}) with {what}, {where}, contract {self.contract.version}\n"
                + "".join(f"[pytest-modelarts] {line}\n" for line in more))

    # -- a worker -------------------------------------------------------------------------------------
    def urls(self) -> ct.ObjectUrls | None:
        """A v1 job's locations as ``obs://`` URLs: its inputs and output path where they are the local OBS's, else its
        own bucket's ``code/``, ``inputs/`` and ``outputs/`` (links into the worker's tree); None for v2."""
        bucket = self.job_bucket
        if bucket is None:
            return None
        config = self.config
        data = f"obs://{bucket}/inputs/" + (self.input_file or "")
        return ct.ObjectUrls(
            app=f"obs://{bucket}/code/",
            data=str(config.inputs) if config.inputs is not None and config.inputs.is_object_store else data,
            train=str(config.output_path) if config.output_path is not None and config.output_path.is_object_store
            else f"obs://{bucket}/outputs/",
        )

    def arguments(self, layout: ct.Layout | None = None) -> list[str]:
        """What the platform appends to the job's command: ``--data_url=.. --train_url=.. --<label>=<value>`` (and
        ``--num_gpus=<n>`` where the contract's platform does: v1)."""
        layout = layout or self.layout
        urls = self.urls()
        data_url = urls.data if urls else str(layout.data_url() / self.input_file) if self.input_file else None
        num_gpus = self.num_gpus if self.contract.num_gpus_argument else None
        return ct.platform_arguments(layout, self.config.hyperparameters, num_gpus, data_url=data_url,
                                     train_url=urls.train if urls else None)

    def argv(self, environment: Mapping[str, str], layout: ct.Layout | None = None,
             base_env: Mapping[str, str] | None = None) -> list[str]:
        """The command of a worker: ``python <job dir>/<code>/<boot file> <arguments>``, or a custom image's
        ``user_command`` with the arguments appended to its last command (its variables substituted)."""
        layout = layout or self.layout
        if self.config.user_command is not None:
            return command_argv(self.config.user_command, {**(base_env or {}), **environment}, self.arguments(layout))
        assert self.config.boot_file is not None
        python = str(self.runtime.python) if self.runtime is not None else "python"
        return [python, str(layout.code_dir(self.code_name) / self.config.boot_file), *self.arguments(layout)]

    def environment(self, worker: int, *, address: str, layout: ct.Layout | None = None,
                    base_env: Mapping[str, str] | None = None, hosts: Sequence[str] | None = None) -> dict[str, str]:
        """Every variable of worker ``worker`` (``address`` is its network's), and nothing of the caller's beyond the
        contract's passthrough. ``base_env`` is the image's own environment (Docker); ``hosts`` stand in for the
        contract's host names where a worker cannot resolve them (the relocated fallback's loopback addresses)."""
        layout = layout or self.layout
        base, runtime = dict(base_env or {}), self.runtime
        env = {name: self.inherit[name] for name in ct.PASSTHROUGH if name in self.inherit}
        env.setdefault("LANG", "C.UTF-8")
        env.update(runtime.env if runtime is not None else {})  # the environment's activation
        if self.custom_image:  # its hyperparameters are variables too; its PATH and PYTHONPATH stand as the image has them
            env.update(self.config.hyperparameters)
            env.pop("PATH", None)
        else:  # a preset image: the interpreter's PATH; the job dir, the requirements' site and moxing on PYTHONPATH
            # "PATH=${MA_HOME}/anaconda/bin:${PATH}", "LD_LIBRARY_PATH=${MA_HOME}/anaconda/lib:${LD_LIBRARY_PATH}"
            # (CUSTOM): the local interpreter's own folders stand first, where the image's anaconda has it
            layer = self.pip_layer
            # a node or a container sees the layer at a path of its own; a relocated job (a layout of its own), its folder
            seen = layer.seen(inside=layout == self.layout) if layer is not None else None
            prefix = [*([str(seen / "bin")] if seen is not None else []), *(runtime.path_prefix if runtime is not None else ())]
            anaconda = layout.home / ct.ANACONDA_DIR
            env["PATH"] = os.pathsep.join([*prefix, str(anaconda / "bin"), env.get("PATH", base.get("PATH", ct.BASE_PATH))])
            libraries = [*filter(None, [env.get("LD_LIBRARY_PATH", base.get("LD_LIBRARY_PATH"))]), str(anaconda / "lib"), *ct.PRESET_LIBRARY_DIRS]
            env["LD_LIBRARY_PATH"] = os.pathsep.join(libraries)
            env["LIBRARY_PATH"] = ct.PRESET_STATIC_LIBRARY_PATH
            site = [str(self.requirements_site)] if self.requirements is not None else []
            site += [str(seen / "site")] if seen is not None else []
            env["PYTHONPATH"] = os.pathsep.join([str(layout.job_dir), *site, str(JOB_SITE), *filter(None, [base.get("PYTHONPATH")])])
        worker_hosts = tuple(hosts or self.hosts)
        pip_url = self.inherit.get("PIP_INDEX_URL") or ct.DEFAULT_PIP_URL
        env.update(self.contract.variables(layout, ct.Worker(
            job_id=self.job_id, index=worker, hosts=worker_hosts, current_ip=address, num_gpus=self.num_gpus,
            code=layout.code_dir(self.code_name), pip_url=pip_url, urls=self.urls(), endpoints=self.endpoints)))
        if self.num_gpus:  # the worker's GPUs, numbered from 0 as a container given n GPUs sees them
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, range(self.num_gpus)))
        env["PYTHONUNBUFFERED"] = "1"  # logs stream live (the custom-image Dockerfile of the user guide sets it too)
        obs = self.config.local_obs
        bucket = self.job_bucket
        if obs is not None or bucket is not None:
            buckets = {bucket: Path(layout.home) / ".obs"} if bucket is not None else {}
            env[OBS_VARIABLE] = (obs or LocalObs()).with_buckets(buckets).to_env()
        env["HOSTNAME"] = self.hosts[worker].split(".")[0]
        env["PWD"] = str(self.working_dir(layout))  # as a shell that changed into it has it, whoever starts the job
        env["PYTEST_MODELARTS_RUNTIME"] = runtime.describe() if runtime is not None else "the image's interpreter"
        return env


def plan_job(config: JobConfig, session: Session, runtime: PythonRuntime | None, job_id: str,
             *, environ: Mapping[str, str] | None = None) -> JobPlan:
    """Decide how ``config`` runs, once; :class:`ConfigurationError` for what no backend here could give it."""
    from .session import parse_run_user

    version = config.contract or session.contract
    engine = engine_of(config)
    if config.container.user is not None:
        user = parse_run_user(config.container.user, "ContainerOptions", "user")
    elif engine is not None and engine.run_user is not None and version.contract.engine_run_user:
        user = (engine.run_user, session.run_user[1])  # the engine's run_user (the API's), in the contract's group
    else:
        user = session.run_user
    # where the inputs lie on this machine (an online job's obs:// inputs have no such place)
    where = config.inputs
    inputs = config.local_path(where) if where is not None and (where.is_local or config.local_obs is not None) else None
    options = config.container
    limits = fl.resolve(options.flavor, memory=memory_bytes(options.memory) if options.memory else None, cpus=options.cpus,
                        smoke_memory=options.smoke_memory, smoke_cpus=options.smoke_cpus, memory_of=memory_bytes)
    machine_gpus = host_gpus()
    gpus = _gpus(options.gpus, machine_gpus) if options.gpus else fl.flavor_gpus(limits.flavor, machine_gpus)
    requirements = None
    if not config.is_custom_image and config.code_path is not None and config.code_path.is_dir():
        requirements = ct.requirements_file(sorted(os.listdir(config.code_path)))
        if requirements is not None:
            _refuse_moxing(config.code_path / requirements)
    inherit = dict(environ if environ is not None else os.environ)
    network = {"none": Network.NONE, "host": Network.OUTSIDE}.get(config.container.network_mode or "", Network.PRIVATE)
    if pip_index_switched_on(inherit) and network is Network.PRIVATE:
        network = Network.OUTSIDE  # the index lies outside: a local job reaches it only through the outside
    sandbox_root = (session.local_root / "runs" / f"{config.job_name}-{job_id}").resolve()
    layer = None
    if runtime is not None and not config.is_custom_image:
        from uv import find_uv_bin

        layer = PipLayer(root=sandbox_root / LAYER_DIR, python=Path(runtime.python), uv=Path(find_uv_bin()),
                         reachable=network is Network.OUTSIDE,
                         settings={name: value for name, value in ct.installer_environment(inherit).items()
                                   if name not in ("PATH", "HOME", "USER", "TMPDIR", "PIP_INDEX_URL", "UV_INDEX_URL")})
    return JobPlan(
        config=config, job_id=job_id, contract=version.contract, runtime=runtime, pip_layer=layer,
        sandbox_root=sandbox_root, user=user, network=network,
        num_gpus=gpus, limits=limits, gpu_note=fl.gpu_note(limits.flavor, machine_gpus) if not options.gpus else None,
        requirements=requirements, input_file=inputs.name if inputs is not None and not inputs.is_dir() else None,
        endpoints=MappingProxyType(endpoint_variables(session.obs_endpoint, session.endpoint)),
        inherit=MappingProxyType(inherit),
        cpus=limits.cpus, memory=str(limits.memory_bytes) if limits.memory_bytes is not None else None,
    )


def _refuse_moxing(requirements: Path) -> None:
    """A code directory's requirements that name the PyPI package ``moxing`` (not ModelArts'): refused, never installed."""
    from .moxing_package import WHY, moxing_lines

    found = moxing_lines(requirements)
    if found:
        number, line = found[0]
        raise ConfigurationError(f"{requirements}, line {number} ({line!r}): {WHY}")


def engine_of(config: JobConfig) -> Engine | None:
    """The preset engine a boot-file job names (``framework_type``/``framework_version``); None without one."""
    if config.framework_type is None or config.is_custom_image:
        return None
    return find_engine(config.framework_type, config.framework_version)


def _gpus(requested: int | None, available: int) -> int:
    """GPUs a worker gets of this host's ``available``: none unless asked; ``-1`` all; a request this host cannot meet
    is refused."""
    if not requested:
        return 0
    if not available:
        raise ConfigurationError(f"ContainerOptions(gpus={requested}) but this host has no NVIDIA GPU (/dev/nvidia*); "
                                 "drop gpus= to run on CPU")
    return available if requested < 0 else requested


def endpoint_variables(obs_endpoint: str | None, apigw_endpoint: str | None) -> dict[str, str]:
    """``S3_ENDPOINT``, ``S3_USE_HTTPS``, ``S3_VERIFY_SSL`` and ``MA_APIGW_ENDPOINT``, as a v2 container has them, where
    the session names an endpoint (the emulator's, say); absent otherwise: there is nothing to name locally."""
    found: dict[str, str] = {}
    if obs_endpoint:
        https = obs_endpoint.startswith("https://")
        found.update(S3_ENDPOINT=obs_endpoint, S3_USE_HTTPS="1" if https else "0", S3_VERIFY_SSL="1" if https else "0")
    if apigw_endpoint:
        found["MA_APIGW_ENDPOINT"] = apigw_endpoint
    return found
