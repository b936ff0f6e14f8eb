"""The flavors ModelArts publishes for training jobs, and what a local smoke run of one gets.

A job's ``train_instance_type`` is a flavor: CPU cores, memory, GPUs, a maximum node count, a ``/cache`` disk. The
catalog below holds the public flavors that Huawei's ModelArts documentation describes, each row with the page it
comes from (the public mirror ``opentelekomcloud-docs/modelarts``). The emulator serves it as
``GET /v2/{project_id}/training-job-flavors``; a local run of a flavor gets its cores and memory as limits
(:class:`Limits`, carried out by every local backend), scaled down only on purpose (``smoke_memory``,
``smoke_cpus``) and capped by this machine where it has less, with a line that says so.

Where the documentation gives no value (the ``max_num`` of a GPU flavor named only in a job's example body), the
row says so in its ``source`` and takes 1: a single node, what a distributed job cannot count on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GIB = 1024**3
MIB = 1024**2
#: the pages the rows come from
FLAVORS_API = "api-ref/source/training_management/obtaining_the_general_specifications_supported_by_a_training_job.rst"
CACHE_FAQ = ("umn/source/faqs/training_jobs/creating_a_training_job/what_are_sizes_of_the_cache_directories_for_"
             "different_resource_specifications_in_the_training_environment.rst")
JOB_LIST_API = "api-ref/source/training_management/querying_a_training_job_list.rst"
CREATE_API = "api-ref/source/training_management/creating_a_training_job.rst"
#: the API's error codes for a flavor it does not know and a node count over ``max_num``
#: (api-ref/source/appendix/error_codes.rst: FlavorNotFound, FlavorOutOfRange)
FLAVOR_NOT_FOUND = "ModelArts.2781"
FLAVOR_OUT_OF_RANGE = "ModelArts.2793"


@dataclass(frozen=True)
class Flavor:
    """One published flavor: what a node of it has. Sizes as the API gives them (GB, which its tables also write
    as GiB: "2 vCPUs | 8 GiB"); a local run takes them as GiB."""

    flavor_id: str
    name: str
    arch: str
    cores: int
    memory_gib: int
    max_num: int
    disk_gib: int | None
    gpus: int = 0
    gpu_product: str | None = None
    gpu_memory: str | None = None
    source: str = ""

    @property
    def kind(self) -> str:
        return "GPU" if self.gpus else "CPU"

    @property
    def memory_bytes(self) -> int:
        return self.memory_gib * GIB

    def describe(self) -> str:
        gpus = f", {self.gpus} x {self.gpu_product} GPU" if self.gpus else ""
        return f"{self.flavor_id} ({self.cores} cores, {self.memory_gib} GiB{gpus}, at most {self.max_num} node{'s' * (self.max_num > 1)})"

    def to_api(self) -> dict[str, Any]:
        """The ``FlavorResponse`` object of ``GET /v2/{project_id}/training-job-flavors``."""
        info: dict[str, Any] = {"max_num": self.max_num, "cpu": {"arch": self.arch, "core_num": self.cores},
                                "memory": {"size": self.memory_gib, "unit": "GB"}}
        if self.disk_gib is not None:
            info["disk"] = {"size": self.disk_gib, "unit": "GB"}
        if self.gpus:
            info["gpu"] = {"unit_num": self.gpus, "product_name": self.gpu_product, "memory": self.gpu_memory}
        return {"flavor_id": self.flavor_id, "flavor_name": self.name, "flavor_type": self.kind, "max_num": self.max_num,
                "billing": {"code": self.flavor_id, "unit_num": 1}, "flavor_info": info}


CATALOG: tuple[Flavor, ...] = (
    Flavor("modelarts.vm.cpu.2u", "Computing CPU(2U) instance", "x86", cores=2, memory_gib=8, max_num=1, disk_gib=50,
           source=f"{FLAVORS_API} (example response); /cache 50 GB: {CACHE_FAQ}"),
    Flavor("modelarts.vm.cpu.8u", "Computing CPU(8U) instance", "x86", cores=8, memory_gib=32, max_num=16, disk_gib=50,
           source=f"{FLAVORS_API} (example response); /cache 50 GB: {CACHE_FAQ}"),
    Flavor("modelarts.vm.gpu.pnt1.eco", "GPU: 1*GP-Pnt1(8GB) | CPU: 8 cores 64GB", "x86", cores=8, memory_gib=64,
           max_num=1, disk_gib=None, gpus=1, gpu_product="GP-Pnt1", gpu_memory="8GB",
           source=f"{JOB_LIST_API} (flavor_detail of the example job); max_num and disk not documented: 1 and none"),
    Flavor("modelarts.vm.gpu.free", "GPU: 1*GP-Vnt1(32GB) | CPU: 8 cores 64GB (free)", "x86", cores=8, memory_gib=64,
           max_num=1, disk_gib=None, gpus=1, gpu_product="GP-Vnt1", gpu_memory="32GB",
           source=f"{CREATE_API} (flavor_detail of the example job); max_num and disk not documented: 1 and none"),
)
BY_ID = {flavor.flavor_id: flavor for flavor in CATALOG}


def find(flavor_id: str) -> Flavor | None:
    return BY_ID.get(flavor_id)


def known_ids() -> str:
    return ", ".join(BY_ID)


def count_problem(flavor: Flavor, count: int) -> str | None:
    """Why ``count`` nodes of ``flavor`` cannot run (the API's FlavorOutOfRange), None when they can."""
    if count <= flavor.max_num:
        return None
    return (f"{count} nodes of {flavor.flavor_id}, whose max_num is {flavor.max_num}"
            f"{' (it does not run distributed jobs)' if flavor.max_num == 1 else ''}; use at most {flavor.max_num} "
            f"or a flavor with a higher max_num ({', '.join(f.flavor_id for f in CATALOG if f.max_num >= count) or 'none'})")


def size_text(size: int) -> str:
    """``8 GiB``, ``256 MiB``, ``8.1 GiB``: what a report shows."""
    if size >= GIB:
        value, unit = size / GIB, "GiB"
    else:
        value, unit = size / MIB, "MiB"
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


@dataclass(frozen=True)
class Limits:
    """What every worker of a local run is limited to, and where it came from: a flavor (maybe scaled down on
    purpose), or ``ContainerOptions(cpus=, memory=)`` alone. ``notes`` say what differs from the flavor and why."""

    flavor: Flavor | None = None
    memory_bytes: int | None = None
    cpus: float | None = None
    #: ``smoke_memory='256m'`` when the memory limit is scaled down on purpose
    memory_scaled: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return self.memory_bytes is not None or self.cpus is not None

    @property
    def whole_cpus(self) -> int | None:
        """The cores a worker's ``nproc`` shows: the limit rounded up."""
        return None if self.cpus is None else max(1, -int(-self.cpus // 1))

    def memory_text(self) -> str:
        """``the 8 GiB of modelarts.vm.cpu.2u`` (``... scaled down by smoke_memory='256m'; 8 GiB online``)."""
        assert self.memory_bytes is not None
        size = size_text(self.memory_bytes)
        if self.flavor is None:
            return f"the memory limit of {size} (memory=)"
        if self.memory_scaled:
            return (f"the {size} of {self.flavor.flavor_id} scaled down by {self.memory_scaled} "
                    f"({size_text(self.flavor.memory_bytes)} online)")
        return f"the {size} of {self.flavor.flavor_id}"

    def oom_text(self, peak: int | None) -> str:
        """What a worker killed for memory is reported as: ``exceeded the 8 GiB of modelarts.vm.cpu.2u (peak 8.1 GiB)``."""
        if self.memory_bytes is None:
            return "out of memory"
        return f"out of memory: exceeded {self.memory_text()}" + (f" (peak {size_text(peak)})" if peak else "")

    def header(self) -> str | None:
        """One line for the job's log: what the workers are limited to."""
        if not self.any:
            return None
        parts = []
        if self.cpus is not None:
            parts.append(f"{self.cpus:g} CPU{'s' * (self.cpus != 1)}")
        if self.memory_bytes is not None:
            parts.append(size_text(self.memory_bytes) + " of memory")
        what = f"flavor {self.flavor.flavor_id}" if self.flavor else "ContainerOptions"
        return f"limits ({what}): {', '.join(parts)} per worker" + "".join(f"; {note}" for note in self.notes)


@dataclass(frozen=True)
class Usage:
    """What a finished local job's workers used: each one's peak memory (None where it could not be measured) under
    its ``limits``."""

    peaks: tuple[int | None, ...]
    limits: Limits = Limits()

    def describe(self) -> str:
        """``peak 113 MiB`` (per worker: ``peak 113 MiB, 90 MiB``), ``of the 200 MiB of modelarts.vm.cpu.2u ...``."""
        shown = ", ".join(size_text(p) if p is not None else "?" for p in self.peaks)
        limit = f" of {self.limits.memory_text().removeprefix('the ')}" if self.limits.memory_bytes is not None else ""
        return f"peak {shown}{limit}"


def host_cpus() -> int:
    """The cores this process may run on (its affinity), what a job on this machine could have at most."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def host_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def resolve(flavor_id: str | None, *, memory: int | None, cpus: float | None, smoke_memory: str | None,
            smoke_cpus: float | None, memory_of: Any, cores: int | None = None, ram: int | None = None) -> Limits:
    """The limits of a local run: the flavor's cores and memory, replaced on purpose by ``smoke_*``, capped by this
    machine's cores (``cores``, default: ours) with a note; without a flavor, ``memory``/``cpus`` as given.
    ``memory_of`` turns a size (``'512m'``) into bytes."""
    flavor = find(flavor_id) if flavor_id else None
    if flavor is None:
        return Limits(memory_bytes=memory, cpus=cpus)
    cores = host_cpus() if cores is None else cores
    ram = host_memory() if ram is None else ram
    notes: list[str] = []
    want_cpus = float(smoke_cpus) if smoke_cpus is not None else float(flavor.cores)
    if smoke_cpus is not None:
        notes.append(f"smoke_cpus={smoke_cpus:g} of the flavor's {flavor.cores}")
    if want_cpus > cores:
        notes.append(f"{want_cpus:g} CPUs asked, this machine has {cores}: the job gets {cores} (nproc shows {cores})")
        want_cpus = float(cores)
    want_memory = flavor.memory_bytes
    scaled = None
    if smoke_memory is not None:
        want_memory, scaled = memory_of(smoke_memory), f"smoke_memory={smoke_memory!r}"
        notes.append(f"{scaled} of the flavor's {size_text(flavor.memory_bytes)}")
    if ram is not None and want_memory > ram:
        notes.append(f"{size_text(want_memory)} of memory asked, this machine has {size_text(ram)}: the limit stands "
                     "but the machine runs out first")
    return Limits(flavor=flavor, memory_bytes=want_memory, cpus=want_cpus, memory_scaled=scaled, notes=tuple(notes))


def gpu_note(flavor: Flavor | None, host: int) -> str | None:
    """The line a GPU flavor's smoke run on a machine without (enough) GPUs starts with; None when nothing differs."""
    if flavor is None or not flavor.gpus or host >= flavor.gpus:
        return None
    return (f"{flavor.flavor_id} has {flavor.gpus} x {flavor.gpu_product} GPU; this machine has {host or 'none'}: the "
            f"smoke run is on CPU with MA_NUM_GPUS=0 (online: {flavor.gpus}); a launch line such as "
            "'torchrun --nproc_per_node=$MA_NUM_GPUS' needs a CPU fallback, e.g. --nproc_per_node=$(( MA_NUM_GPUS > 0 ? MA_NUM_GPUS : 1 ))")


def flavor_gpus(flavor: Flavor | None, host: int) -> int:
    """GPUs a worker of ``flavor`` gets here: the flavor's count where this machine has them, else none."""
    if flavor is None or not flavor.gpus or host < flavor.gpus:
        return 0
    return flavor.gpus


def listing(flavor_type: str | None = None) -> dict[str, Any]:
    """The body of ``GET /v2/{project_id}/training-job-flavors`` (``flavor_type``: CPU, GPU or all)."""
    flavors: Iterable[Flavor] = (f for f in CATALOG if flavor_type in (None, f.kind))
    items = [f.to_api() for f in flavors]
    return {"total_count": len(items), "flavors": items}
