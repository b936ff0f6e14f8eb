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
from pathlib import Path

from ...core import contract
from ...core.backend import Backend, BackendRegistry, Execution
from ...core.codetree import CodeTree
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...core.plan import JobPlan
from ...errors import BackendError, ConfigurationError
from .. import sandbox as sb
from .execution import SUPERVISORS, LocalExecution
from .holder import ONE_WORKER_HOLDERS
from .installer import install_packages
from .limits import JobGroups
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

    def start(self, plan: JobPlan) -> Execution:
        config, runtime = plan.config, plan.runtime
        assert runtime is not None and config.code_path is not None
        why_not = self._why_not_sandboxed()
        overlays = why_not is None and _overlay_safe(config, self.session.local_root)
        box = sb.create_sandbox(plan, self.session.local_root, stage_code=not overlays,
                                stage_inputs=not overlays or not _inputs_overlaid(config))
        nodes = self._nodes(plan, box, overlays) if why_not is None else None
        commands, launchers, envs, cwds = [], [], [], []
        groups: JobGroups | None = None
        try:
            # every worker's flavor limits, and its peak memory (limits.py); made before any worker starts
            groups = JobGroups.create(plan.job_id, plan.count, plan.limits)
            if plan.requirements is not None:  # in the job's installer node where it has nodes (see .installer)
                from ...envs.progress import Progress

                sink = self.session.progress  # a step of its own: an install may take minutes before the job starts
                with (Progress(sink=sink) if sink is not None else Progress()).step(
                        f"installing {plan.requirements} from the code directory of job {config.job_name}"):
                    install_packages(nodes, python=runtime.python, arguments=["-r", plan.requirements],
                                     target=plan.requirements_site, code_dir=config.code_path, log=box.log_file(0),
                                     what=plan.requirements, inherit=plan.inherit)
            # relocated processes cannot resolve the contract's host names: their workers are loopback addresses
            loopback = contract.loopback_hosts(plan.count)
            for i in range(plan.count):  # each worker in a home of its own, as each node has
                layout = plan.layout if nodes is not None else box.layout_of(i)
                env = (plan.environment(i, address=nodes.address(i)) if nodes is not None
                       else plan.environment(i, address=loopback[i], layout=layout, hosts=loopback))
                argv = plan.argv(env, layout)
                commands.append(argv)
                if nodes is not None:  # the supervisor runs on the host; the job, in its node, sees only `env`
                    launchers.append(nodes.worker_argv(i, argv, env, plan.working_dir()))
                    envs.append({"PATH": os.environ.get("PATH", contract.BASE_PATH)})
                    cwds.append(box.root)
                else:
                    envs.append(env)
                    cwds.append(Path(plan.working_dir(layout)))
            box.note_in_logs(plan.header("in a sandboxed node" if nodes is not None else f"relocated under {box.root} ({why_not})"))
            return LocalExecution(config, self.session, box, commands, envs, cwds,
                                  launchers=launchers or None, nodes=nodes, variables=sorted(env), groups=groups)
        except BaseException:
            if nodes is not None:
                nodes.close()
            if groups is not None:
                groups.remove()
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

    def _nodes(self, plan: JobPlan, box: sb.Sandbox, overlays: bool) -> JobNodes:
        config = plan.config
        base = box.root / "node" / "overlay"
        code_view = box.root / "node" / "code"  # the code dir through the code-tree policy: every worker's lower layer
        if overlays and config.code_path is not None:
            CodeTree(config.code_path, exclude=(self.session.local_root,)).copy_to(code_view, link=True)
        inputs = (config.local_path(config.inputs)  # decided once per job, not once per worker
                  if overlays and config.inputs is not None and _inputs_overlaid(config) else None)
        nodes = []
        for i in range(plan.count):  # create_sandbox made each worker's code dir (a mount point) and /cache
            code = Overlay(code_view, base / f"worker-{i}" / "code") if overlays else None
            data = Overlay(inputs, base / f"worker-{i}" / "data") if inputs is not None else None
            nodes.append(Node(i, Path(box.layout_of(i).home), box.cache(i), code, data))
        job_nodes = JobNodes(plan, box.root, nodes)
        if plan.requirements is not None and overlays:  # the installer's own view of the code (see .installer)
            job_nodes.installer_code = Overlay(code_view, base / "installer" / "code")
        job_nodes.start()
        return job_nodes


def _overlay_safe(config: JobConfig, local_root: Path) -> bool:
    """overlayfs options cannot name paths with ',', ':', '\\' or blanks: such trees are copied instead."""
    paths = [local_root.resolve(), config.local_path(config.inputs) if config.inputs is not None else None]
    return not any(p is not None and any(c in str(p) for c in ",:\\ \t\n") for p in paths)


def _inputs_overlaid(config: JobConfig) -> bool:
    """A directory of inputs is seen through an overlay; a single input file is copied (it is one file)."""
    return config.inputs is not None and config.local_path(config.inputs).is_dir()


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(LocalBackend)
