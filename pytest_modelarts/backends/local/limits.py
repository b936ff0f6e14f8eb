"""A job's limits on this machine: one control group per worker, for its flavor's cores and memory and its peak.

Each worker of a local job gets a group of its own under ``pytest-modelarts/`` in the kernel's control groups, made
before it starts and removed after it ends:

* **cgroup v1** (a writable ``/sys/fs/cgroup/memory``, ``cpu`` and ``cpuset``, e.g. as root): ``memory.limit_in_bytes``
  and ``memory.memsw.limit_in_bytes`` (no swap: an overrun is an OOM kill, as on ModelArts), ``cpu.cfs_quota_us`` for
  the flavor's CPUs, ``cpuset.cpus`` for its whole cores, so that ``nproc`` in the job shows them;
* **cgroup v2** where this process's group is delegated to us (writable, with ``memory``, ``cpu`` and ``cpuset`` in its
  ``cgroup.subtree_control``): ``memory.max``, ``memory.swap.max``, ``cpu.max``, ``cpuset.cpus``;
* neither: the cores through the worker's CPU affinity (``nproc`` still shows them), the memory not limited, and
  :func:`unenforced` says so in one line per session.

A Docker job uses Docker's own limits; its containers are put under such a group (``cgroup_parent``) so that their
peak can be read after they are gone. The peak (``memory.max_usage_in_bytes``, ``memory.peak``) and the OOM kills
(``oom_kill`` of ``memory.oom_control``, ``memory.events``) are read once the workers ended.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ...core.flavors import Limits, host_cpus

ROOT = Path(os.environ.get("PYTEST_MODELARTS_CGROUP_ROOT", "/sys/fs/cgroup"))
GROUP = "pytest-modelarts"
PERIOD_US = 100_000


@dataclass(frozen=True)
class Hierarchy:
    """Where this machine lets us make groups: v1 (one folder per controller) or v2 (one folder), or neither."""

    version: int  # 1, 2; 0: no control groups for us
    why_not: str | None = None
    v2_base: Path | None = None

    def folders(self, name: str, *, nested: bool = True) -> dict[str, Path]:
        """The folder of group ``name`` per controller (``memory``, ``cpu``, ``cpuset``): inside this process's own
        groups (``nested``: a job counts where its caller counts), else at the top (Docker's containers, children of
        its daemon, are never in ours)."""
        if self.version == 1:
            return {c: ROOT / c / (_own(c) if nested else "") / GROUP / name for c in ("memory", "cpu", "cpuset")}
        assert self.v2_base is not None
        folder = self.v2_base / GROUP / name
        return {"memory": folder, "cpu": folder, "cpuset": folder}


@functools.cache
def _own(controller: str) -> str:
    """This process's group in a v1 hierarchy (``/proc/self/cgroup``: ``4:memory:/a/b``), relative to its root."""
    with contextlib.suppress(OSError):
        for line in open("/proc/self/cgroup").read().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return path.lstrip("/")
    return ""


@functools.cache
def hierarchy() -> Hierarchy:
    """What this machine allows, found once per process."""
    v1 = [ROOT / c for c in ("memory", "cpu", "cpuset")]
    if all((folder / "cgroup.procs").exists() for folder in v1):
        if all(os.access(folder, os.W_OK) for folder in v1):
            return Hierarchy(1)
        return Hierarchy(0, f"the control groups of {ROOT} (v1) are not writable by uid {os.getuid()}; run as root, "
                         "or where cgroup v2 is delegated")
    if (ROOT / "cgroup.controllers").exists():
        try:
            own = Path(open("/proc/self/cgroup").read().strip().split("\n")[-1].split("::", 1)[1].lstrip("/"))
        except (OSError, IndexError):
            return Hierarchy(0, "/proc/self/cgroup cannot be read")
        base = ROOT / own
        controls = (base / "cgroup.subtree_control")
        enabled = controls.read_text().split() if controls.exists() else []
        if os.access(base, os.W_OK) and {"memory", "cpu", "cpuset"} <= set(enabled):
            return Hierarchy(2, v2_base=base)
        return Hierarchy(0, f"cgroup v2 is not delegated to this process ({base} writable with memory, cpu and cpuset in "
                         "cgroup.subtree_control); systemd-run --user --scope -p Delegate=yes gives such a group")
    return Hierarchy(0, f"no control groups at {ROOT}")


def session_line() -> str:
    """One line for a session: how a flavor's limits are enforced on this machine, and which cannot be, and why."""
    found = hierarchy()
    how = (f"memory and CPUs through cgroup v{found.version} (local nodes) and Docker's own limits" if found.version else
           f"CPUs through each worker's affinity and Docker's limits; memory only in Docker: {found.why_not}")
    return (f"flavors: {how}; not enforced: the size of /cache (a folder on this machine's disk; ModelArts mounts a "
            "disk of the flavor's size there)")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


@dataclass
class WorkerGroup:
    """One worker's group: what to write the worker's pid into, and what it used."""

    folders: dict[str, Path]
    version: int
    docker: bool = False
    peak: int | None = None
    oom_kills: int = 0

    @property
    def parent(self) -> str:
        """The group a Docker container of this worker is put under (``cgroup_parent``), from each hierarchy's top."""
        return "/" + self.folders["memory"].relative_to(ROOT / ("memory" if self.version == 1 else "")).as_posix()

    @property
    def procs(self) -> list[str]:
        """The ``cgroup.procs`` files a worker joins (each folder once)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def read_usage(self) -> None:
        memory = self.folders["memory"]
        if self.version == 1:
            text = _read(memory / "memory.max_usage_in_bytes")
            events = _read(memory / "memory.oom_control") or ""
        else:
            text = _read(memory / "memory.peak")
            events = _read(memory / "memory.events") or ""
        if text and text.strip().isdigit():
            self.peak = max(self.peak or 0, int(text))
        for line in events.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                self.oom_kills = max(self.oom_kills, int(value))


@dataclass
class JobGroups:
    """The groups of one job's workers (``groups``), or none where this machine gives none (then ``affinity`` is the
    cores each worker is pinned to instead)."""

    limits: Limits
    groups: list[WorkerGroup] = field(default_factory=list)
    affinity: list[int] | None = None

    @classmethod
    def create(cls, job_id: str, count: int, limits: Limits, *, docker: bool = False) -> JobGroups:
        """Make every worker's group with ``limits`` written in (for ``docker``, a parent that only measures: Docker
        writes the limits into the containers' own groups)."""
        found = hierarchy()
        cores = cores_for(limits.whole_cpus)
        if not found.version:
            return cls(limits, affinity=cores if not docker else None)
        _sweep_once(found)
        made = cls(limits)
        try:
            for worker in range(count):
                group = WorkerGroup(found.folders(f"{job_id}-{worker}", nested=not docker), found.version, docker=docker)
                made.groups.append(group)
                _make(group, found, None if docker else limits, cores)
        except OSError:
            made.remove()
            raise
        return made

    def procs(self, worker: int) -> list[str]:
        return self.groups[worker].procs if self.groups else []

    def read_usage(self) -> None:
        for group in self.groups:
            group.read_usage()

    def peaks(self) -> list[int | None]:
        return [group.peak for group in self.groups]

    def oom_killed(self, worker: int) -> bool:
        return bool(self.groups) and self.groups[worker].oom_kills > 0

    def remove(self) -> None:
        """Remove the groups (each empty by now: the job's processes are gone). One still busy is left to the kernel's
        and the next run's care, never waited for. What they measured stays readable."""
        for group in self.groups:
            folders = set(group.folders.values())
            if group.docker and group.version == 1:  # Docker made the parent in every hierarchy it uses
                folders |= {top / group.parent.lstrip("/") for top in ROOT.iterdir() if (top / group.parent.lstrip("/")).is_dir()}
            for folder in sorted(folders, key=str):
                _rmdir(folder, inner=group.docker)


#: a job's group is ``<job id>-<worker>``; one this old with nobody in it belongs to a run that died before removing it
LEFTOVER = re.compile(r"[0-9a-f]{8}-\d+")
LEFTOVER_AGE = 600.0


@functools.cache
def _sweep_once(found: Hierarchy) -> None:
    """Remove, once per process, the groups that runs killed before their end left (their processes are gone: an empty
    group of a running job is at most seconds old). The kernel refuses to remove a group anybody is in."""
    tops = [found.folders("x", nested=nested)["memory"].parent for nested in (True, False)]
    if found.version == 1:
        tops += [ROOT / c / (_own(c) if nested else "") / GROUP for c in ("cpu", "cpuset") for nested in (True, False)]
        tops += [top / GROUP for top in ROOT.iterdir()]  # Docker makes a container's parent in every hierarchy
    now = time.time()
    for top in set(tops):
        for folder in top.glob("*/") if top.is_dir() else ():
            with contextlib.suppress(OSError):
                if LEFTOVER.fullmatch(folder.name) and now - folder.stat().st_mtime > LEFTOVER_AGE:
                    _rmdir(folder, inner=False)


def _rmdir(folder: Path, *, inner: bool) -> None:
    """Remove ``folder`` (and, for a container's parent, the container's own group, which its runtime removes as the
    container goes: a moment is given to that, 0.5 s at most)."""
    for _ in range(50 if inner else 1):
        for child in folder.glob("*/") if inner else ():
            with contextlib.suppress(OSError):
                child.rmdir()
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if inner:
                time.sleep(0.01)


def remove_docker_groups(job_id: str) -> None:
    """Remove the parent groups of job ``job_id``'s containers in every hierarchy, those that are empty: what a run
    killed before its end left (the clean-up of its containers calls this)."""
    if not job_id or "/" in job_id or not ROOT.is_dir():
        return
    for top in ROOT.iterdir():
        for folder in (top / GROUP).glob(f"{job_id}-*/"):
            with contextlib.suppress(OSError):
                folder.rmdir()


def cores_for(whole: int | None) -> list[int] | None:
    """The first ``whole`` cores this process may run on (all of them, should it ask for more), None: no limit."""
    if whole is None:
        return None
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(host_cpus()))
    return allowed[:whole]


def _make(group: WorkerGroup, found: Hierarchy, limits: Limits | None, cores: list[int] | None) -> None:
    folders = group.folders
    if found.version == 1:
        parent = folders["cpuset"].parent
        parent.mkdir(exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):  # a new v1 cpuset is empty: it takes its parent's
            if not (_read(parent / name) or "").strip():
                _write(parent / name, (_read(parent.parent / name) or "").strip())
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        _write(folders["cpuset"] / "cpuset.mems", (_read(parent / "cpuset.mems") or "0").strip())
        _write(folders["cpuset"] / "cpuset.cpus", ",".join(map(str, cores)) if cores else (_read(parent / "cpuset.cpus") or "0").strip())
        if limits is None:
            return
        if limits.memory_bytes is not None:
            _write(folders["memory"] / "memory.limit_in_bytes", str(limits.memory_bytes))
            with contextlib.suppress(OSError):  # absent without swap accounting: then there is no swap to limit
                _write(folders["memory"] / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        if limits.cpus is not None:
            _write(folders["cpu"] / "cpu.cfs_period_us", str(PERIOD_US))
            _write(folders["cpu"] / "cpu.cfs_quota_us", str(int(limits.cpus * PERIOD_US)))
        return
    folder = folders["memory"]
    folder.parent.mkdir(exist_ok=True)
    _write(folder.parent / "cgroup.subtree_control", "+memory +cpu +cpuset")
    folder.mkdir(exist_ok=True)
    if cores:
        _write(folder / "cpuset.cpus", ",".join(map(str, cores)))
    if limits is None:
        return
    if limits.memory_bytes is not None:
        _write(folder / "memory.max", str(limits.memory_bytes))
        with contextlib.suppress(OSError):
            _write(folder / "memory.swap.max", "0")
    if limits.cpus is not None:
        _write(folder / "cpu.max", f"{int(limits.cpus * PERIOD_US)} {PERIOD_US}")
