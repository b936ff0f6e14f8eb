"""The ``local`` backend: each worker is a supervised process on this machine, under the container contract.

Each worker runs ``python -I -S supervisor.py`` in a session of its own, which runs the boot command in a
process group of its own (see :mod:`pytest_modelarts.backends.local.supervisor`). Where the machine allows it,
the boot command runs inside a node of its own (:mod:`.nodes`: the container's paths and user, a ``/cache``
and a network of its own); elsewhere the relocated mode runs it at the same tree under the sandbox directory
and says which guarantees are off: stop, timeout, Ctrl-C and the death of
this process all end the job and everything it started. stdout and stderr of a worker go straight to its
log file (nothing is lost if we die); a follower thread echoes new lines live when the session asks for it.
A multi-node job fails, and its other workers are stopped, as soon as one worker fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...core import contract
from ...core.backend import Backend, BackendRegistry, Execution
from ...core.codetree import CodeTree
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...core.runtime import PythonRuntime
from ...core.session import parse_run_user
from ...errors import BackendError, ConfigurationError
from .. import sandbox as sb
from .execution import LocalExecution
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

    def start(self, config: JobConfig, runtime: PythonRuntime | None, *, job_id: str) -> Execution:
        assert runtime is not None and config.boot_file is not None
        why_not = self._why_not_sandboxed()
        nodes = None
        overlays = why_not is None and _overlay_safe(config, self.session.local_root)
        box = sb.create_sandbox(config, job_id, self.session.local_root, stage_code=not overlays,
                                stage_inputs=not overlays or not _inputs_overlaid(config))
        extra = dict(runtime.env)
        reqs = box.root / "requirements-site"
        assert config.code_path is not None
        sb.install_requirements(runtime.python, config.code_path, reqs, box.log_file(0))
        if reqs.exists():
            extra["PYTHONPATH"] = str(reqs)
        count = config.train_instance_count
        if why_not is None:
            nodes = self._nodes(config, job_id, box, runtime, reqs, overlays)
            hosts = tuple(nodes.hosts)
        else:
            hosts = tuple(contract.loopback_hosts(count))
        commands, launchers, envs, cwds = [], [], [], []
        try:
            for i in range(count):  # each worker in a home of its own, as each node has
                layout = contract.Layout.container() if nodes is not None else box.layout_of(i)
                argv = contract.boot_argv(str(runtime.python), layout, box.code_name, config.boot_file, config.hyperparameters,
                                          data_url=sb.data_url_for(config, layout.data_url()))
                node = contract.Node(index=i, hosts=hosts)
                env = contract.job_environment(
                    layout=layout, job_id=job_id, code_dir_name=box.code_name, node=node,
                    current_ip=nodes.address(i) if nodes is not None else node.host,
                    extra=extra, inherit=os.environ, path_prefix=runtime.path_prefix,
                )
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
            header = f"[pytest-modelarts] job {config.job_name} ({job_id}) with {runtime.describe()}, {how}\n"
            for i in range(count):
                with open(box.log_file(i), "ab") as fh:
                    fh.write(header.encode())
            return LocalExecution(config, self.session, box, commands, envs, cwds,
                                  launchers=launchers or None, nodes=nodes)
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
               overlays: bool) -> JobNodes:
        base = box.root / "node" / "overlay"
        code_view = box.root / "node" / "code"  # the code dir through the code-tree policy: every worker's lower layer
        if overlays and config.code_path is not None:
            CodeTree(config.code_path, exclude=(self.session.local_root,)).copy_to(code_view, link=True)
        nodes = []
        for i in range(config.train_instance_count):
            home = Path(box.layout_of(i).home)
            (home / "modelarts" / "user-job-dir" / box.code_name).mkdir(parents=True, exist_ok=True)
            cache = box.root / "cache" / f"worker-{i}"
            cache.mkdir(parents=True)
            code = Overlay(code_view, base / f"worker-{i}" / "code") if overlays else None
            data = (Overlay(config.inputs.path, base / f"worker-{i}" / "data")
                    if overlays and config.inputs is not None and _inputs_overlaid(config) else None)
            nodes.append(Node(i, home, cache, code, data))
        uid, gid = parse_run_user(config.container.user, "ContainerOptions", "user") if config.container.user else self.session.run_user
        python = Path(runtime.python)
        visible = (python.parent.parent, Path(os.path.realpath(python)).parent.parent, reqs,
                   *([runtime.prefix] if runtime.prefix else []))
        job_nodes = JobNodes(job_id, box.root, nodes, box.code_name, uid=uid, gid=gid,
                             network="host" if config.container.network_mode == "host" else "private", ro_binds=visible)
        job_nodes.start()
        return job_nodes


def _overlay_safe(config: JobConfig, local_root: Path) -> bool:
    """overlayfs options cannot name paths with ',', ':', '\\' or blanks: such trees are copied instead."""
    paths = [local_root.resolve(), config.inputs.path if config.inputs is not None else None]
    return not any(p is not None and any(c in str(p) for c in ",:\\ \t\n") for p in paths)


def _inputs_overlaid(config: JobConfig) -> bool:
    """A directory of inputs is seen through an overlay; a single input file is copied (it is one file)."""
    return config.inputs is not None and config.inputs.path.is_dir()


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(LocalBackend)
