"""Sandboxed nodes: each local worker of a job runs as a ModelArts node would, in a bubblewrap sandbox.

What a worker sees (docs/sandbox.md): the container's own tree (``/home/ma-user``, ``MA_JOB_DIR``,
``inputs/data_url_0``, ``outputs/train_url_0``, ``log``), a private ``/tmp``, a writable ``/cache`` of its own,
read-only: the host's base system (``/usr``, ``/lib*``, chosen ``/etc`` files: see :mod:`.baseview`), the job's
environment and the interpreter it needs, and nothing else of the host (no homes, ``/root``, ``/srv``, ``/opt``,
``/var``, checkout, other jobs' sandboxes); the user ``ma-user`` (uid 1000 by default); a network stack of its
own on a network private to the job, where the workers reach each other by the contract's host names and nothing
else (no host loopback, no outside network) unless the job asks for the host's network.

How, without root (``unshare``, ``ip`` and ``bwrap``, no packet forwarding of our own)::

    the job's namespace holder:  unshare --user --map-root-user --mount --pid --fork --kill-child --mount-proc --net
        sh -s, its script on stdin: a private /run; a bridge with one veth per worker, each worker's end
                         in a network namespace of its own (w<i>) (for jobs of up to 8 workers all this is made before
                         the job starts: holder.holders_for); copy-on-write overlays of the code and the inputs
                         per worker; prints "ready"; then waits for more until its stdin closes
    each worker (under the local backend's supervisor):
        nsenter -t <holder> -U -m -p --net=/proc/<holder>/root/run/netns/w<i> -- bwrap --unshare-user --uid 1000
            ... --ro-bind /run/sys/w<i> /sys ... -- <command>

Lifetime: the holder is pid 1 of the job's pid namespace, so when it ends (its stdin closed by us, or by our
death) the kernel kills every process of the job, daemons included; each bwrap dies with its parent, and the
supervisor's child dies with the supervisor (PR_SET_PDEATHSIG). Mounts and network namespaces belong to the
job's namespaces and vanish with them. Files the job writes belong to the invoking user on the host: the user
namespaces map the worker's uid to ours.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shlex
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ...core.oskit import children
from ...core.plan import VOLCANO_PATH, JobPlan, Network
from ...errors import BackendError
from ..sandbox import walk
from .baseview import host_base_view, under_base
from .holder import holders_for, network_lines, node_address, start_holder, worker_netns, worker_sysfs
from .standby import dismiss, own_environment

#: the documented user of ModelArts' custom images (uid 1000, group users 100)
DEFAULT_UID, DEFAULT_GID = 1000, 100
TOOLS = ("bwrap", "unshare", "nsenter", "ip")
REQUIRE_VARIABLE = "PYTEST_MODELARTS_REQUIRE_SANDBOX"
#: seconds a holder may take to mount a job's overlays and say "ready" (milliseconds, usually) before it is given up
READY_TIMEOUT = 30.0


def unavailable() -> str | None:
    """None when sandboxed nodes work on this machine, else why not (tools missing, user namespaces refused)."""
    with _PROBING:  # a standby's thread may be probing already (Backend.prepare): its answer, not a second probe
        return _probe()


_PROBING = threading.Lock()


@functools.cache
def _probe() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not found (install the Debian packages bubblewrap, util-linux and iproute2: "
                "apt-get install -y bubblewrap iproute2)")
    probe = ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--net", "--",
             "bwrap", "--unshare-user", "--uid", str(DEFAULT_UID), "--ro-bind", "/", "/", "--", "true"]
    try:
        # env: this runs in a standby's thread too (see standby.own_environment)
        result = subprocess.run(probe, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
                                env=own_environment())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"user namespaces cannot be tried: {exc}"
    if result.returncode != 0:
        return f"user namespaces are refused here ({result.stderr.strip() or f'exit {result.returncode}'})"
    return None


@dataclass(frozen=True)
class Overlay:
    """A copy-on-write view of a host directory (``lower``), mounted in the job's mount namespace at ``merged``."""

    lower: Path
    base: Path  # holds upper/, work/, merged/

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    @property
    def merged(self) -> Path:
        return self.base / "merged"

    def mount_line(self) -> str:
        # in a user namespace overlayfs needs userxattr (kernel >= 5.11): without it, removing or renaming a
        # directory of the lower layer fails with EIO; fuse-overlayfs is the fallback where the kernel refuses
        options = f"lowerdir={self.lower},upperdir={self.upper},workdir={self.base / 'work'}"
        merged = shlex.quote(str(self.merged))
        return (f"mount -t overlay overlay -o {shlex.quote(options + ',userxattr')} {merged} 2>/dev/null"
                f" || fuse-overlayfs -o {shlex.quote(options)} {merged}")

    def changes(self) -> Iterator[tuple[str, str]]:
        """(relative path, created|modified|deleted) of what the job changed in its view."""
        for path in walk(self.upper):  # upper itself is a directory: skipped below
            rel = path.relative_to(self.upper)
            mode = path.lstat().st_mode
            if path.name in (".wh..wh..opq", ".wh..opq") or stat.S_ISDIR(mode):
                continue  # opaque markers; directories copied up for a file inside them
            if path.name.startswith(".wh."):  # fuse-overlayfs marks a deletion with a file
                yield rel.with_name(path.name[4:]).as_posix(), "deleted"
            elif stat.S_ISCHR(mode) and path.lstat().st_rdev == 0:  # the kernel's whiteout
                yield rel.as_posix(), "deleted"
            else:
                yield rel.as_posix(), "modified" if (self.lower / rel).exists() else "created"


@dataclass(frozen=True)
class Node:
    """What one worker of the job gets: its home on the host, its scratch disk, its views of code and inputs."""

    index: int
    home: Path  # bound at /home/ma-user
    cache: Path  # bound at /cache
    code: Overlay | None
    data: Overlay | None


@dataclass
class JobNodes:
    """The nodes of one job: the namespace holder, and the command that runs a worker inside its node."""

    plan: JobPlan
    root: Path  # the job's sandbox directory: generated files go to <root>/node/
    nodes: list[Node]
    _holder: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _holder_pid: int | None = field(default=None, init=False, repr=False)
    _binds: list[str] = field(default_factory=list, init=False, repr=False)  # the plan's mounts, every worker's
    #: the installer node's copy-on-write view of the code (where the code is overlaid): a package's build writes in
    #: its source tree, which must be neither the user's files nor a worker's view
    installer_code: Overlay | None = None

    @property
    def _outside(self) -> bool:
        """The host's network stack, for jobs that ask for the outside; else a network private to the job."""
        return self.plan.network is Network.OUTSIDE

    def address(self, index: int) -> str:
        return "127.0.0.1" if self._outside else node_address(index)

    # -- the holder -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Write the node files, start the holder and wait until the network and the overlays are in place."""
        etc = self.root / "node" / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "hosts").write_text(self._hosts_file())
        passwd, group = self._users()
        (etc / "passwd").write_text(passwd)
        (etc / "group").write_text(group)
        self._binds = self._extra_binds()
        overlays = [overlay for node in self.nodes for overlay in (node.code, node.data) if overlay is not None]
        if self.installer_code is not None:
            overlays.append(self.installer_code)
        for overlay in overlays:
            for part in ("upper", "work", "merged"):
                (overlay.base / part).mkdir(parents=True, exist_ok=True)
        mounts = [overlay.mount_line() + " </dev/null" for overlay in overlays]
        if len(mounts) > 1:  # side by side, a process each: the job waits for the slowest, not for the sum
            mounts = [*(f"({line}) & m{i}=$!" for i, line in enumerate(mounts)), *(f"wait $m{i}" for i in range(len(mounts)))]

        def fresh() -> subprocess.Popen[bytes]:
            return start_holder(network_lines(len(self.nodes)) if not self._outside else None)

        # the usual smoke test takes a holder whose network is made already; should that one have died meanwhile
        # (killed from outside, say), a fresh one is asked before the job fails
        standby = holders_for(len(self.nodes)) if not self._outside else None  # jobs of up to 8 workers
        holder = self._ready(standby.take() if standby is not None else fresh(), mounts, last=standby is None)
        if holder is None:
            holder = self._ready(fresh(), mounts, last=True)
        assert holder is not None
        self._holder_pid = next(iter(children(holder.pid)), None)
        if self._holder_pid is None:
            self.close()
            raise BackendError(f"the nodes of job {self.plan.job_id} vanished while being set up")

    def _ready(self, holder: subprocess.Popen[bytes], mounts: list[str], *, last: bool) -> subprocess.Popen[bytes] | None:
        """``holder`` once it has mounted the overlays and said "ready"; None if it could not and this is not
        the ``last`` try; else :class:`BackendError` with what it printed."""
        self._holder = holder
        assert holder.stdin is not None and holder.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # it failed already: its stderr says why
            holder.stdin.write("".join(f"{line}\n" for line in [*mounts, "echo ready"]).encode())
            holder.stdin.flush()
        answered = select.select([holder.stdout], [], [], READY_TIMEOUT)[0]
        line = holder.stdout.readline().decode(errors="replace").strip() if answered else ""
        if line == "ready":
            return holder
        if not answered:  # stuck: what it would print is lost with it
            dismiss(holder, kill=True)
        self.end()
        error = (holder.stderr.read().decode(errors="replace").strip() if holder.stderr and not holder.stderr.closed
                 else f"no answer in {READY_TIMEOUT:g} s")  # up to its exit
        self.close()
        self._holder = None
        if not last:
            return None
        raise BackendError(f"the nodes of job {self.plan.job_id} could not be set up: {error or line or 'no answer'}")

    def end(self) -> None:
        """Tell the holder to end (EOF on its stdin) without waiting: :meth:`close` waits."""
        holder = self._holder
        if holder is not None and holder.stdin is not None and not holder.stdin.closed:
            with contextlib.suppress(OSError):
                holder.stdin.close()

    def close(self) -> None:
        """End the holder: the kernel ends every process of the job with it, and its mounts and networks."""
        holder = self._holder
        if holder is None:
            return
        dismiss(holder)

    def refill(self) -> None:
        """Start the next job's holder, where this job's came from the standby."""
        standby = holders_for(len(self.nodes)) if not self._outside else None
        if standby is not None:
            standby.refill_soon()

    def _hosts_file(self) -> str:
        names = self.plan.host_names([self.address(i) for i in range(len(self.nodes))])
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        return "\n".join([*lines, *(f"{address} {name}" for name, address in names.items())]) + "\n"

    def _users(self) -> tuple[str, str]:
        """/etc/passwd and /etc/group of a node: root, ``ma-user`` (unless the job runs as root), nobody."""
        passwd = ["root:x:0:0:root:/root:/bin/sh"]
        name, (uid, gid) = self.plan.contract.user_name, self.plan.user
        group = ["root:x:0:", f"users:x:{DEFAULT_GID}:" + (name if uid else "")]
        if uid:  # v2 runs as ma-user in /home/ma-user; v1 ran as work in /home/work
            passwd.append(f"{name}:x:{uid}:{gid}:{name}:{self.plan.layout.home}:/bin/bash")
            if gid not in (0, DEFAULT_GID):
                group.append(f"ma-group:x:{gid}:{name}")
        passwd.append("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin")
        group.append("nogroup:x:65534:")
        return "\n".join(passwd) + "\n", "\n".join(group) + "\n"

    # -- a worker ---------------------------------------------------------------------------------------
    def worker_argv(self, index: int, command: Sequence[str], env: Mapping[str, str], cwd: PurePosixPath) -> list[str]:
        """The command that runs ``command`` as worker ``index``, inside its node, with exactly ``env``."""
        assert self._holder_pid is not None, "start() the nodes first"
        node = self.nodes[index]
        layout, (uid, gid) = self.plan.layout, self.plan.user
        etc = self.root / "node" / "etc"
        argv = ["bwrap", "--unshare-user", "--uid", str(uid), "--gid", str(gid),
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--hostname", self.plan.hosts[index].split(".")[0], "--die-with-parent",
                "--tmpfs", "/", *self._host_view(index),
                "--dev", "/dev", "--perms", "1777", "--size", str(self.plan.shm_bytes), "--tmpfs", "/dev/shm",
                "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run", *self._binds,
                *_gpu_devices(self.plan.num_gpus),
                "--ro-bind", str(etc / "hosts"), "/etc/hosts", "--ro-bind", str(etc / "passwd"), "/etc/passwd",
                "--ro-bind", str(etc / "group"), "/etc/group",
                "--dir", "/home", "--bind", str(node.home), str(layout.home), "--bind", str(node.cache), "/cache"]
        if node.code is not None:
            argv += ["--bind", str(node.code.merged), str(layout.code_dir(self.plan.code_name))]
        if node.data is not None:
            argv += ["--bind", str(node.data.merged), str(layout.data_url())]
        argv += ["--remount-ro", "/", "--chdir", str(cwd), "--clearenv"]
        for name, value in env.items():
            argv += ["--setenv", name, value]
        argv += ["--", *command]
        pid = self._holder_pid
        # bwrap cannot join a network namespace: nsenter does, by the worker's namespace file as the holder sees it
        # (it lies in the holder's /run, which only its mount namespace has), where `ip netns exec` cost a process
        net = f"--net=/proc/{pid}/root{worker_netns(index)}" if not self._outside else "-n"
        return ["nsenter", "-t", str(pid), "-U", "-m", net, "-p", "--", *argv]

    def installer_argv(self, command: Sequence[str], env: Mapping[str, str], *, writable: Sequence[Path],
                       tools: Sequence[tuple[Path, PurePosixPath]]) -> list[str]:
        """The command that runs ``command`` (a package install) in an *installer node*: worker 0's view of the
        files (its home, a copy-on-write view of the code, the environment read-only, the base system), ``writable``
        bound read-write at their own paths (the install's target), ``tools`` bound read-only (host path, path
        inside: the installer itself), with exactly ``env``, in the job's user, mount and pid namespaces (it ends
        with the job) but on the host's network: it needs the package index, as the platform's pip reaches its
        mirror. Nothing of the host beyond that: no homes, no checkout, no caller's environment, no host process
        in its /proc."""
        assert self._holder_pid is not None, "start() the nodes first"
        node, layout, (uid, gid) = self.nodes[0], self.plan.layout, self.plan.user
        etc = self.root / "node" / "etc"
        code = self.installer_code.merged if self.installer_code is not None else node.home / layout.code_dir(
            self.plan.code_name).relative_to(layout.home)
        argv = ["bwrap", "--unshare-user", "--uid", str(uid), "--gid", str(gid), "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--tmpfs", "/", *host_base_view(),
                "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run",
                *self._binds, "--ro-bind", str(etc / "passwd"), "/etc/passwd", "--ro-bind", str(etc / "group"),
                "/etc/group", "--dir", "/home", "--bind", str(node.home), str(layout.home),
                "--bind", str(code), str(layout.code_dir(self.plan.code_name))]
        for path in writable:
            argv += ["--bind", str(path), str(path)]
        for host, inside in tools:
            argv += ["--ro-bind", str(host), str(inside)]
        argv += ["--remount-ro", "/", "--chdir", str(layout.code_dir(self.plan.code_name)), "--clearenv"]
        for name, value in env.items():
            argv += ["--setenv", name, value]
        # no -n: the host's network namespace, the one nsenter runs in
        return ["nsenter", "-t", str(self._holder_pid), "-U", "-m", "-p", "--", *argv, "--", *command]

    def _host_view(self, index: int) -> list[str]:
        """The host's top level as the worker sees it; on a private network its /sys is the worker's own (the
        holder mounted it from inside the worker's network namespace), so that /sys/class/net lists its own
        interfaces (what NCCL and gloo look at), not the host's; the job's own /etc/volcano, where it has one."""
        view = list(host_base_view())
        if self.plan.volcano_files():
            view += ["--ro-bind", str(self.plan.volcano_dir), str(VOLCANO_PATH)]
        if not self._outside and "/sys" in view:
            at = view.index("/sys")  # "--ro-bind", "/sys", "/sys"
            view[at:at + 2] = [worker_sysfs(index), "/sys"]
        return view

    def _extra_binds(self) -> list[str]:
        """The plan's mounts and the runtime's interpreter and prefix, at their own paths: bound where the host's top
        level is not (under /home, /tmp...), the writable ones (the local OBS) wherever they lie."""
        runtime, mounts = self.plan.runtime, self.plan.mounts()
        python = [Path(runtime.python).parent.parent, Path(os.path.realpath(runtime.python)).parent.parent,
                  *([runtime.prefix] if runtime.prefix else [])] if runtime is not None else []
        args: list[str] = []
        for path in python:
            if not under_base(path) and path.exists():
                args += ["--ro-bind", str(path), str(path)]
        for mount in mounts:
            if not mount.writable and (mount.at is not None or not under_base(mount.path)) and mount.path.exists():
                args += ["--ro-bind", str(mount.path), str(mount.inside)]
        for mount in mounts:
            if mount.writable:
                mount.path.mkdir(parents=True, exist_ok=True)  # a bucket not made yet is empty, as a new OBS bucket is
                args += ["--bind", str(mount.path), str(mount.inside)]
        return args

    # -- after the job ----------------------------------------------------------------------------------
    def lost_writes(self, kept: Sequence[PurePosixPath]) -> list[str]:
        """What the job created, changed or deleted outside ``kept`` (train_url, log), /cache and /tmp: online it
        is lost. One entry each: the path as the job saw it (relative to ``MA_MOUNT_PATH`` where it lies there),
        what happened, and the worker when there are several (``user-job-dir/model.pkl (created, worker 1)``)."""
        layout = self.plan.layout
        mounts = (layout.code_dir(self.plan.code_name), layout.data_url())
        covered = (*mounts, *kept)
        found: list[str] = []
        for node in self.nodes:
            changes = [(layout.home / rel, "created") for rel in _created(node.home, layout.home, covered)]
            for overlay, base in ((node.code, mounts[0]), (node.data, mounts[1])):
                if overlay is not None and overlay.upper.is_dir():
                    changes += [(base / rel, what) for rel, what in overlay.changes()]
            worker = f", worker {node.index}" if len(self.nodes) > 1 else ""
            for inside, what in changes:
                shown = inside.relative_to(layout.mount) if layout.mount in inside.parents else inside
                found.append(f"{shown} ({what}{worker})")
        return found


def _created(home: Path, inside: PurePosixPath, covered: Sequence[PurePosixPath]) -> Iterator[str]:
    """Every entry under ``home`` but directories, relative to it, outside ``covered`` (paths as seen at ``inside``).
    Covered directories are not entered: an output of thousands of files costs nothing here."""
    skip = {os.path.join(home, *k.relative_to(inside).parts) for k in covered if inside in k.parents}
    for base, dirs, files in os.walk(home):
        entered = []
        for name in dirs:
            path = os.path.join(base, name)
            if path in skip:
                continue
            if os.path.islink(path):  # a link to a directory is an entry of its own (not followed)
                yield os.path.relpath(path, home)
            else:
                entered.append(name)
        dirs[:] = entered
        for name in files:
            path = os.path.join(base, name)
            if path not in skip:
                yield os.path.relpath(path, home)


def _gpu_devices(count: int) -> list[str]:
    """``--dev-bind`` of the host's first ``count`` GPUs and NVIDIA's control devices (the driver's libraries are in the
    host's /usr, bound already); nothing for a job without GPUs."""
    if not count:
        return []
    found = sorted(Path("/dev").glob("nvidia[0-9]*"), key=lambda p: int(p.name[6:]))[:count]
    found += [p for p in sorted(Path("/dev").glob("nvidia*")) if not p.name[6:].isdigit()]  # nvidiactl, nvidia-uvm...
    return [arg for path in found for arg in ("--dev-bind", str(path), str(path))]
