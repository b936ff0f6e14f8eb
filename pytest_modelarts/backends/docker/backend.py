"""The ``docker`` backend: each worker is a Docker container that carries out the job's plan.

Used for custom-image jobs (``user_image_url``) and for any local job with ``backend="docker"``. What the job sees
(argv, variables, user, working directory, host names, mounts, ``/dev/shm``, network, GPUs) is its
:class:`~pytest_modelarts.core.plan.JobPlan`, as in a sandboxed node; what this backend decides itself, each with
its reason, is in docs/containers.md:

* the image: ``user_image_url``, else the session's ``docker_image`` or :data:`IMAGE_VARIABLE`; present or pulled,
  else a :class:`~pytest_modelarts.errors.BackendError` that says how to provide it. Its own variables
  (``Config.Env``) stand: a custom image keeps its ``PATH`` and ``PYTHONPATH``, a boot-file job builds on them;
* the sandbox's tree bind-mounted at ``MA_MOUNT_PATH``, a ``/cache`` per worker, directories world-writable so that
  any image user may write; what the job wrote is given to the invoking user afterwards (:mod:`.files`);
* every worker under Docker's init, so that ``docker stop`` reaches the command; a shell ``user_command`` gets
  the platform's arguments on its last command (:mod:`pytest_modelarts.core.commands`);
* the requirements file installed in the container before the boot file (``install_then_run``);
* a network of the job's own (:meth:`DockerBackend._create_network`), or a loopback-only namespace held by a
  pause container for ``network_mode="none"`` (:mod:`.pause`);
* ``cpus``/``memory`` limits (a flavor's, see :mod:`pytest_modelarts.core.flavors`) and its cores as the
  container's cpuset, an ``OOMKilled`` worker reported as out of memory (exit 137) with the flavor's limit and the
  worker's peak (read from a parent control group of the worker's own, :mod:`..local.limits`);
* labels on everything, removed at the job's end, at exit, and after a SIGKILL by the next run (:mod:`.owners`).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ...core import contract
from ...core.backend import Backend, BackendRegistry, Execution
from ...core.commands import LastCommandError, append_arguments, is_shell_command, memory_bytes
from ...core.hooks import hookimpl
from ...core.job import JobConfig
from ...core.plan import CACHE_PATH, VOLCANO_PATH, JobPlan
from ...core.plan import Network as PlanNetwork
from ...core.retry import RetryPolicy, retry
from ...errors import BackendError, ConfigurationError
from .. import sandbox as sb
from ..local.limits import JobGroups, cores_for
from .client import shared_client
from .execution import INSTALL_FAILED, DockerExecution
from .network import daemon_subnet, free_subnet
from .owners import LABEL, LABEL_WORKER, labels
from .pause import ensure_pause_image

if TYPE_CHECKING:
    import docker
    from docker.models.networks import Network


IMAGE_VARIABLE = "PYTEST_MODELARTS_DOCKER_IMAGE"
#: another network may take the subnet between our probe and our create: try a few times
NETWORK_CREATION = RetryPolicy(attempts=5, base_delay=0.0, max_delay=0.0, jitter=False)


class DockerBackend(Backend):
    """Local jobs in Docker containers, one per worker, on a network of the job's own."""

    name = "docker"
    needs_runtime = False  # the image brings its own interpreter

    def image_for(self, config: JobConfig) -> str:
        image = config.user_image_url or self.session.docker_image or os.environ.get(IMAGE_VARIABLE)
        if not image:
            raise ConfigurationError(
                f"job {config.job_name!r} runs a boot file in Docker but names no image: pass user_image_url=... "
                f"(an image with python), or set the environment variable {IMAGE_VARIABLE}=<image>, or run it "
                "with backend='local'"
            )
        return image

    def validate(self, config: JobConfig) -> None:
        self.image_for(config)
        if not config.is_custom_image and config.code_path is None:
            raise ConfigurationError("the docker backend runs a boot file from a local code_dir")
        if config.code_dir is not None and config.code_path is None:
            raise ConfigurationError(f"code_dir={config.code_dir!r}: the docker backend mounts a local code_dir")
        if config.user_command is not None:
            try:
                shlex.split(config.user_command)
            except ValueError as exc:
                raise ConfigurationError(f"user_command={config.user_command!r} cannot be split into arguments: {exc}") from None
            if is_shell_command(config.user_command):
                try:
                    append_arguments(config.user_command, ["--data_url=..."])
                except LastCommandError as exc:
                    raise ConfigurationError(
                        f"user_command={config.user_command!r}: ModelArts appends --data_url=... --train_url=... and "
                        f"the hyperparameters to the last command of the boot command, but {exc}; end the command "
                        "with the one that runs the training script"
                    ) from None
        if config.container.memory is not None and memory_bytes(config.container.memory) < 6 * 1024**2:
            raise ConfigurationError(f"ContainerOptions(memory={config.container.memory!r}): Docker needs at least 6m")

    def _ensure_image(self, client: docker.DockerClient, image: str) -> dict[str, str]:
        """Make sure the image is here (pull it otherwise); return its own environment (``Config.Env``)."""
        import docker.errors

        try:
            return image_environment(client.images.get(image).attrs)
        except docker.errors.ImageNotFound:
            pass
        try:
            return image_environment(client.images.pull(image).attrs)
        except docker.errors.APIError as exc:
            reason = getattr(exc, "explanation", None) or str(exc)
            raise BackendError(
                f"image {image!r} is not present locally and could not be pulled ({reason}); build it "
                f"('docker build -t {image} .'), load it ('docker load -i <file>'), or log in to its registry "
                "('docker login') and try again"
            ) from None

    def _create_network(self, client: docker.DockerClient, plan: JobPlan) -> tuple[Network, list[str]]:
        """A bridge network of the job's own with an explicit subnet, so that workers have fixed addresses.

        Made once: the subnet is a free one of :data:`.network.JOB_SUBNETS` (not taken by a Docker network or a route of
        this host), picked at random so that concurrent runs rarely want the same; a collision is retried. Where
        none is free, the daemon picks one (a probe network first). A private network (the default) is ``internal``
        and its bridge has no address of the host's: the workers reach each other, not the host nor the outside.
        """
        import docker.errors
        import docker.types

        name = f"{LABEL}-{plan.job_id}"
        job_labels = labels(plan.config, plan.job_id)
        private = plan.network is not PlanNetwork.OUTSIDE
        options = {"com.docker.network.bridge.inhibit_ipv4": "true"} if private else None

        def attempt() -> tuple[Network, list[str]]:
            subnet = free_subnet(client) or daemon_subnet(client, name, job_labels)
            hosts = subnet.hosts()
            gateway = str(next(hosts))
            addresses = [str(next(hosts)) for _ in range(plan.count)]
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)])
            return client.networks.create(name, driver="bridge", labels=job_labels, ipam=ipam, internal=private,
                                          options=options), addresses

        try:  # another network may take the subnet between our look and our create
            return retry(attempt, policy=NETWORK_CREATION, retry_on=docker.errors.APIError)
        except docker.errors.APIError as exc:
            raise BackendError(f"could not create the network of job {plan.config.job_name!r}: {exc}") from None

    def start(self, plan: JobPlan) -> Execution:
        import docker.types

        timings: dict[str, float] = {}  # each step's seconds, in info()["timings"] (benchmarks/bench_docker.py)
        mark = time.perf_counter()

        def step(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            timings[name], mark = now - mark, now

        config, job_id, count, hosts = plan.config, plan.job_id, plan.count, plan.hosts
        image = self.image_for(config)
        client = shared_client()
        image_env = self._ensure_image(client, image)
        step("image")
        box = sb.create_sandbox(plan, self.session.local_root)
        step("sandbox")
        for worker in range(box.workers):  # any uid the image runs as may write there
            for path in [*sb.walk(box.mount(worker)), box.cache(worker)]:
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o1777 if path == box.cache(worker) else 0o777)
        if plan.requirements is not None:
            plan.requirements_site.chmod(0o777)
        network: Network | None = None
        holder: dict[str, Any] | None = None
        if plan.network is PlanNetwork.NONE:
            addresses = contract.loopback_hosts(count)
            pause = ensure_pause_image(client) if count > 1 else None
            if pause is not None:
                short0, _, domain0 = hosts[0].partition(".")
                holder = dict(
                    image=pause, entrypoint=["/pause"], name=f"{LABEL}-{job_id}-netns", hostname=short0,
                    domainname=domain0, network_mode="none", detach=True,
                    labels=labels(config, job_id, **{LABEL_WORKER: "netns"}), extra_hosts=plan.host_names(addresses),
                )
        else:
            network, addresses = self._create_network(client, plan)
        step("network")
        host_names = plan.host_names(addresses)
        layout = plan.layout
        # the plan's mounts, at the same paths (the pip layer and uv at paths of their own); the requirements' site is
        # written by the install that runs in the container
        extra_mounts = [docker.types.Mount(str(m.inside), str(m.path), type="bind",
                                           read_only=not m.writable and m.path != plan.requirements_site)
                        for m in plan.mounts()]
        if plan.volcano_files():  # Volcano's host files, as its svc plugin mounts them
            extra_mounts.append(docker.types.Mount(str(VOLCANO_PATH), str(plan.volcano_dir), type="bind", read_only=True))
        specs: list[dict[str, Any]] = []
        commands: list[list[str]] = []
        # Docker's own limits; a parent group per worker (limits.py) keeps its peak memory after the container is gone
        groups = JobGroups.create(job_id, count, plan.limits, docker=True)
        cores = cores_for(plan.limits.whole_cpus)
        for i in range(count):
            env = plan.environment(i, address=addresses[i], base_env=image_env)
            argv = plan.argv(env, base_env=image_env)
            if plan.requirements is not None:
                argv = install_then_run(plan.requirements, layout.code_dir(plan.code_name), plan.requirements_site,
                                        layout.job_dir, argv)
            commands.append(argv)
            short, _, domain = hosts[i].partition(".")
            uid, gid = plan.user
            spec: dict[str, Any] = dict(
                image=image, entrypoint=argv[:1], command=argv[1:], environment=env,
                name=f"{LABEL}-{job_id}-worker-{i}", hostname=short, domainname=domain,
                working_dir=str(plan.working_dir()), labels=labels(config, job_id, **{LABEL_WORKER: str(i)}),
                user=f"{uid}:{gid}", detach=True, init=True, shm_size=plan.shm_bytes,
                mounts=[docker.types.Mount(str(layout.mount), str(box.mount(i)), type="bind"),
                        docker.types.Mount(str(CACHE_PATH), str(box.cache(i)), type="bind"), *extra_mounts],
            )
            if network is not None:
                spec["network"] = network.name
                spec["networking_config"] = {network.name: client.api.create_endpoint_config(
                    aliases=[hosts[i], short], ipv4_address=addresses[i])}
                # every peer resolves from the start, as in a node: Docker's DNS knows a container once it runs
                spec["extra_hosts"] = host_names
            elif holder is not None:  # every worker joins the holder's loopback-only namespace, host names and all
                spec["network_mode"] = f"container:{holder['name']}"
                del spec["hostname"], spec["domainname"]
            elif i == 0:
                spec["network_mode"] = "none"
                spec["extra_hosts"] = host_names
            else:  # no pause program for this machine: worker 0's namespace (it must outlive the others' start)
                spec["network_mode"] = f"container:{specs[0]['name']}"
                del spec["hostname"], spec["domainname"]
            if plan.cpus is not None:
                spec["nano_cpus"] = int(plan.cpus * 1e9)
            if plan.memory is not None:
                spec["mem_limit"] = plan.memory
                spec["memswap_limit"] = plan.memory  # no swap: an overrun is an OOM kill, as on ModelArts
            if cores:  # nproc in the container shows the flavor's cores, as on ModelArts
                spec["cpuset_cpus"] = ",".join(map(str, cores))
            if groups.groups:
                spec["cgroup_parent"] = groups.groups[i].parent
            if plan.num_gpus:
                spec["device_requests"] = [docker.types.DeviceRequest(count=plan.num_gpus, capabilities=[["gpu"]])]
            specs.append(spec)

        box.note_in_logs(plan.header(f"in image {image}"))
        execution = DockerExecution(config, self.session, box, image, client, commands, requirements=plan.requirements,
                                    groups=groups)
        step("specs")
        execution.timings.update(timings)
        try:
            execution._launch(specs, network, holder)
        except Exception as exc:
            import docker.errors

            if isinstance(exc, docker.errors.APIError):
                raise BackendError(f"Docker refused to start job {config.job_name!r}: {exc}") from exc
            raise
        return execution


def image_environment(attrs: dict[str, Any]) -> dict[str, str]:
    """An image's own variables, from its ``docker inspect`` attributes (``Config.Env``, ``NAME=value`` items)."""
    items = (attrs.get("Config") or {}).get("Env") or []
    return dict(item.partition("=")[::2] for item in items)


def install_then_run(requirements: str, code_dir: PurePosixPath, site: Path, job_dir: PurePosixPath,
                     argv: list[str]) -> list[str]:
    """``argv`` preceded by what a preset image does first: ``pip install -r <requirements>`` from the code directory.

    Run by ``/bin/sh`` in the container, so with the container's variables only (the contract's, never the
    caller's cloud keys); ``--target`` a site directory on ``PYTHONPATH``; the index is ``MA_PIP_URL``, the
    job's pip mirror. A failed install ends the worker with pip's exit code and leaves a note in ``/cache``.
    """
    q = shlex.quote
    name = q(requirements)
    script = (
        f"echo '[pytest-modelarts] installing {requirements} (the platform does this before the boot file)' && "
        f"cd {q(str(code_dir))} && "
        'PIP_INDEX_URL="$MA_PIP_URL" python -m pip install --no-cache-dir --disable-pip-version-check --no-input '
        f"--target {q(str(site))} -r {name}; rc=$?; "
        'if [ "$rc" -ne 0 ]; then '
        f"echo \"[pytest-modelarts] installing {requirements} failed (exit $rc): the job fails, as on ModelArts\" >&2; "
        f'echo "$rc" > {q(f"{CACHE_PATH}/{INSTALL_FAILED}")}; exit "$rc"; fi; '
        f'cd {q(str(job_dir))} && exec "$@"'
    )
    return ["/bin/sh", "-c", script, "sh", *argv]


@hookimpl
def pytest_modelarts_register_backends(registry: BackendRegistry) -> None:
    registry.register(DockerBackend)
