"""The ``local`` backend: each worker is a supervised process on this machine, under the container contract.

Each worker runs under ``python -I -S supervisor.py`` in a session of its own (started before the job, see
:mod:`.standby`), which runs the boot command in a process group of its own (see
:mod:`pytest_modelarts.backends.local.supervisor`). Where the machine allows it,
the boot command runs inside a node of its own (:mod:`.nodes`: the container's paths and user, a ``/cache``
and a network of its own); elsewhere the relocated mode runs it at the same tree under the sandbox directory
and says which guarantees are off: stop, timeout, Ctrl-C and the death of
this process all end the job and everything it started. stdout and stderr of a worker go straight to its
log file (nothing is lost if we die); a follower thread echoes new lines live when the session asks for it.
A multi-node job fails, and its other workers are stopped, as soon as one worker fails.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ...core import contract, objectstore
from ...core.backend import Backend, BackendRegistry, Execution
from ...core.codetree import CodeTree
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...core.objectstore import LocalObs
from ...core.runtime import PythonRuntime
from ...core.session import parse_run_user
from ...errors import BackendError, ConfigurationError
from .. import sandbox as sb
from .execution import SUPERVISORS, LocalExecution
from .holder import ONE_WORKER_HOLDERS
from .nodes import REQUIRE_VARIABLE, JobNodes, Node, Overlay, unavailable


class LocalBackend(Backend):
    """Boot-file jobs as supervised local processes (one per worker)."""

    name = "local"

    def validate(self, config: JobConfig) -> None:
        if config.is_custom_image:
            raise ConfigurationError(
                f"job {config.job_name!r} uses the custom image {config.user_image_url!r}, which only the "
                "'docker' backend can run; drop backend='local' or run it with backend='docker'"
            )
        if config.code_path is None:
            raise ConfigurationError("the local backend runs a boot file from a local code_dir")
        if config.train_instance_count > 254:
            raise ConfigurationError("the local backend runs at most 254 workers")

    def prepare(self) -> None:
        """The first job's supervisor and, where jobs run in sandboxed nodes, its namespace holder, started in the
        background (see :mod:`.standby`): the first job then starts as fast as the later ones."""
        SUPERVISORS.refill_soon()
        if self.session.sandbox is not False:
            ONE_WORKER_HOLDERS.refill_soon(when=lambda: unavailable() is None)  # its probe, too, off the caller's path

    def start(self, config: JobConfig, runtime: PythonRuntime | None, *, job_id: str) -> Execution:
        assert runtime is not None and config.boot_file is not None and config.code_path is not None
        version = config.contract or self.session.contract
        why_not = self._why_not_sandboxed()
        nodes = None
        overlays = why_not is None and _overlay_safe(config, self.session.local_root)
        box = sb.create_sandbox(config, job_id, self.session.local_root, stage_code=not overlays,
                                stage_inputs=not overlays or not _inputs_overlaid(config), version=version)
        extra = dict(runtime.env)
        reqs = box.root / "requirements-site"
        sb.install_requirements(runtime.python, config.code_path, reqs, box.log_file(0))
        # what a ModelArts image has on its path: the requirements installed for the job, and moxing
        extra["PYTHONPATH"] = os.pathsep.join([*([str(reqs)] if reqs.exists() else []), str(JOB_SITE)])
        count = config.train_instance_count
        obs = config.local_obs
        if why_not is None:
            nodes = self._nodes(config, job_id, box, runtime, reqs, overlays, version)
            hosts = tuple(nodes.hosts)
        else:
            hosts = tuple(contract.loopback_hosts(count))
        commands, launchers, envs, cwds = [], [], [], []
        try:
            for i in range(count):  # each worker in a home of its own, as each node has
                layout = contract.Layout.container(version) if nodes is not None else box.layout_of(i)
                job_obs, urls = _job_bucket(config, job_id, box, i, layout, version)
                data_url = urls.data if urls else sb.data_url_for(config, layout.data_url())
                argv = contract.boot_argv(str(runtime.python), layout, box.code_name, config.boot_file, config.hyperparameters,
                                          data_url=data_url, train_url=urls.train if urls else None)
                node = contract.Node(index=i, hosts=hosts)
                env = contract.job_environment(
                    layout=layout, job_id=job_id, code_dir_name=box.code_name, node=node,
                    current_ip=nodes.address(i) if nodes is not None else node.host,
                    extra=extra, inherit=os.environ, path_prefix=runtime.path_prefix, version=version, v1_urls=urls,
                    endpoints=endpoint_variables(self.session.obs_endpoint, self.session.endpoint),
                )
                local_obs = (obs or LocalObs()).with_buckets(job_obs) if obs or job_obs else None
                if local_obs is not None:
                    env[objectstore.ENV_VARIABLE] = local_obs.to_env()
                env["PYTEST_MODELARTS_RUNTIME"] = runtime.describe()
                commands.append(argv)
                if nodes is not None:  # the supervisor runs on the host; the job, in its node, sees only `env`
                    launchers.append(nodes.worker_argv(i, argv, env, layout.job_dir))
                    envs.append({"PATH": os.environ.get("PATH", contract.BASE_PATH)})
                    cwds.append(box.root)
                else:
                    envs.append(env)
                    cwds.append(Path(layout.job_dir))
            how = "in a sandboxed node" if nodes is not None else f"relocated under {box.root} ({why_not})"
            header = f"[pytest-modelarts] job {config.job_name} ({job_id}) with {runtime.describe()}, {how}, contract {version}\n"
            for i in range(count):
                with open(box.log_file(i), "ab") as fh:
                    fh.write(header.encode())
            return LocalExecution(config, self.session, box, commands, envs, cwds,
                                  launchers=launchers or None, nodes=nodes, variables=sorted(env))
        except BaseException:
            if nodes is not None:
                nodes.close()
            raise

    def _why_not_sandboxed(self) -> str | None:
        """None when the job runs in sandboxed nodes; else why not, said once per job in its log."""
        if self.session.sandbox is False:
            return "sandbox=False: the job runs as you, at relocated paths, in the host's network"
        why = unavailable()
        if why is None:
            return None
        if self.session.sandbox or os.environ.get(REQUIRE_VARIABLE) == "1":
            required = "Session(sandbox=True)" if self.session.sandbox else f"{REQUIRE_VARIABLE}=1"
            raise BackendError(f"{required} asks for sandboxed nodes, but {why}")
        return f"no sandbox: {why}; the job runs as you, at relocated paths, in the host's network"

    def _nodes(self, config: JobConfig, job_id: str, box: sb.Sandbox, runtime: PythonRuntime, reqs: Path,
               overlays: bool, version: contract.Version) -> JobNodes:
        base = box.root / "node" / "overlay"
        code_view = box.root / "node" / "code"  # the code dir through the code-tree policy: every worker's lower layer
        if overlays and config.code_path is not None:
            CodeTree(config.code_path, exclude=(self.session.local_root,)).copy_to(code_view, link=True)
        inputs = (config.local_path(config.inputs)  # decided once per job, not once per worker
                  if overlays and config.inputs is not None and _inputs_overlaid(config) else None)
        nodes = []
        for i in range(config.train_instance_count):  # create_sandbox made each worker's code dir (a mount point)
            home = Path(box.layout_of(i).home)
            cache = box.root / "cache" / f"worker-{i}"
            cache.mkdir(parents=True)
            code = Overlay(code_view, base / f"worker-{i}" / "code") if overlays else None
            data = Overlay(inputs, base / f"worker-{i}" / "data") if inputs is not None else None
            nodes.append(Node(i, home, cache, code, data))
        uid, gid = parse_run_user(config.container.user, "ContainerOptions", "user") if config.container.user else self.session.run_user
        python = Path(runtime.python)
        visible = (python.parent.parent, Path(os.path.realpath(python)).parent.parent, reqs, JOB_SITE,
                   *([runtime.prefix] if runtime.prefix else []))
        obs = config.local_obs
        writable = tuple(obs.folders()) if obs is not None else ()
        for folder in writable:  # a bucket that does not exist yet is an empty folder, as a new OBS bucket is empty
            folder.mkdir(parents=True, exist_ok=True)
        job_nodes = JobNodes(job_id, box.root, nodes, box.code_name, uid=uid, gid=gid,
                             network="host" if config.container.network_mode == "host" else "private",
                             ro_binds=visible, rw_binds=writable, version=version)
        job_nodes.start()
        return job_nodes


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


def _job_bucket(config: JobConfig, job_id: str, box: sb.Sandbox, worker: int, layout: contract.Layout,
                version: contract.Version) -> tuple[dict[str, Path], contract.V1Urls | None]:
    """A v1 job's locations are ``obs://`` URLs: a bucket of the job's own serves its code, inputs and outputs.

    The bucket's folder (``<home>/.obs``) holds relative links to the code, ``data_url_0`` and ``train_url_0``, so
    that ``mox.file.copy_parallel(args.data_url, ...)`` reads the staged inputs and what the job writes to
    ``args.train_url`` lands in ``train_url_0``, delivered to ``output_path`` as ever. Inputs or an output path
    that are ``obs://`` URLs of the local OBS are passed as they are. v2 jobs get local paths: no bucket.
    """
    if version is not contract.Version.V1:
        return {}, None
    bucket = f"{JOB_BUCKET_PREFIX}-{job_id}"
    host = Path(box.layout_of(worker).home) / ".obs"
    host.mkdir(exist_ok=True)
    for name, target in (("code", PurePosixPath("..") / contract.JOB_DIR / box.code_name),
                         ("inputs", PurePosixPath("..") / contract.INPUTS_DIR / "data_url_0"),
                         ("outputs", PurePosixPath("..") / contract.OUTPUTS_DIR / "train_url_0")):
        (host / name).symlink_to(str(target))
    single = config.inputs is not None and not config.local_path(config.inputs).is_dir()
    data = f"obs://{bucket}/inputs/" + (config.local_path(config.inputs).name if single and config.inputs else "")
    urls = contract.V1Urls(
        app=f"obs://{bucket}/code/",
        data=str(config.inputs) if config.inputs is not None and config.inputs.is_object_store else data,
        train=str(config.output_path) if config.output_path is not None and config.output_path.is_object_store
        else f"obs://{bucket}/outputs/",
    )
    return {bucket: Path(layout.home) / ".obs"}, urls


def _overlay_safe(config: JobConfig, local_root: Path) -> bool:
    """overlayfs options cannot name paths with ',', ':', '\\' or blanks: such trees are copied instead."""
    paths = [local_root.resolve(), config.local_path(config.inputs) if config.inputs is not None else None]
    return not any(p is not None and any(c in str(p) for c in ",:\\ \t\n") for p in paths)


def _inputs_overlaid(config: JobConfig) -> bool:
    """A directory of inputs is seen through an overlay; a single input file is copied (it is one file)."""
    return config.inputs is not None and config.local_path(config.inputs).is_dir()


#: where ModelArts' own libraries (moxing) live for local jobs: put on every job's PYTHONPATH, imported by none
JOB_SITE = Path(__file__).resolve().parents[2] / "job_site"
#: a v1 job's own bucket in the local OBS: ``<prefix>-<job id>``
JOB_BUCKET_PREFIX = "modelarts-local"


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(LocalBackend)
