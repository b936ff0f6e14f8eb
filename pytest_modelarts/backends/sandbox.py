"""A job's sandbox on this machine, laid out from its plan: the ``MA_HOME`` trees a local run works in, shared by
local backends.

::

    <local_root>/runs/<job_name>-<job_id>/
        home/                               worker 0's MA_HOME (the process backend's view; containers mount it)
            modelarts/                      MA_MOUNT_PATH
                user-job-dir/<code dir>/    a copy of code_dir (the platform downloads it)
                inputs/data_url_0/          a copy of the inputs (the platform downloads them)
                outputs/train_url_0/        written by the job, copied to output_path afterwards
                log/<vj>-worker-<i>.log     stdout+stderr of every worker (collected here, as the platform does)
            .obs/                           a v1 job's own bucket: links to its code, inputs and outputs
        workers/<i>/home/                   worker i's MA_HOME (multi-node jobs): a node of its own
        cache/worker-<i>/                   worker i's /cache
        requirements-site/                  the code directory's requirements file, installed (on PYTHONPATH)
        status/worker-<i>.json              how each worker ended (written by the supervisor)
        output/                             the default output_path of a local run

Each worker of a multi-node job has a home of its own, as each ModelArts node has its own disk: its own copy
of the code and the inputs, its own ``train_url``. Outputs are copied to ``output_path`` when the job ends,
whether it completed, failed or was stopped, as the platform uploads them: every worker's, worker 0's last.
A file that several workers wrote with different contents is an *output conflict*: online, which node's
copy lands in OBS is not defined, so it is reported (in worker 0's log and the job's info). Logs are copied
to ``log_url`` the same way.
"""

from __future__ import annotations

import contextlib
import errno
import filecmp
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..core import contract
from ..core.codetree import CodeTree
from ..core.contract import V2_CONTRACT, Contract, Layout
from ..core.job import JobConfig
from ..errors import BackendError
from .leftovers import claim, partial_name, release, sweep_partials, sweep_runs

if TYPE_CHECKING:
    from ..core.plan import JobPlan


@dataclass(frozen=True)
class Sandbox:
    root: Path
    code_name: str
    job_id: str
    workers: int = 1
    contract: Contract = V2_CONTRACT

    def layout_of(self, worker: int) -> Layout:
        """The contract's paths of worker ``worker`` on this machine (what a relocated process sees)."""
        return self.contract.local_layout(self.root if worker == 0 else self.root / "workers" / str(worker))

    def train_url(self, worker: int = 0) -> Path:
        return Path(self.layout_of(worker).train_url())

    def data_url(self, worker: int = 0) -> Path:
        return Path(self.layout_of(worker).data_url())

    def code_dir(self, worker: int = 0) -> Path:
        return Path(self.layout_of(worker).code_dir(self.code_name))

    def mount(self, worker: int = 0) -> Path:
        return Path(self.layout_of(worker).mount)

    def cache(self, worker: int) -> Path:
        """The worker's ``/cache``: a scratch disk of its own."""
        return self.root / "cache" / f"worker-{worker}"

    @property
    def log_dir(self) -> Path:
        return Path(self.layout_of(0).log_dir)  # worker 0's: every worker's log is collected there

    def log_name(self, worker: int) -> str:
        return f"{contract.vj_name(self.job_id)}-{contract.TASK_NAME}-{worker}.log"

    def log_file(self, worker: int) -> Path:
        return self.log_dir / self.log_name(worker)

    def note_in_logs(self, text: str) -> None:
        """Append ``text`` to every worker's log (the job's header, before any worker starts)."""
        for worker in range(self.workers):
            with open(self.log_file(worker), "ab") as log:
                log.write(text.encode())

    def status_file(self, worker: int) -> Path:
        return self.root / "status" / f"worker-{worker}.json"

    def default_output(self) -> Path:
        return self.root / "output"


def create_sandbox(plan: JobPlan, local_root: Path, *, stage_code: bool = True, stage_inputs: bool = True) -> Sandbox:
    """Lay out the sandbox of ``plan`` and copy code and inputs into every worker's home, as the platform downloads
    them; make each worker's ``/cache``, the requirements' site, and a v1 job's bucket (:meth:`JobPlan.urls`).

    Code and inputs are copied through the code-tree policy (core.codetree), which leaves ``local_root`` out:
    a code directory that holds the run root is never copied into itself. A caller that gives the job
    copy-on-write views of them instead (sandboxed nodes) says ``stage_code=False`` / ``stage_inputs=False``.
    """
    config = plan.config
    assert config.code_path is not None or config.is_custom_image
    root = plan.sandbox_root
    sweep_runs(root.parent, remove)  # what killed runs left here (see .leftovers)
    try:
        root.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise BackendError(f"sandbox {root} exists already") from None
    claim(root)
    sandbox = Sandbox(root=root, code_name=plan.code_name, job_id=plan.job_id, workers=plan.count, contract=plan.contract)
    (root / "status").mkdir()
    if plan.requirements is not None:
        plan.requirements_site.mkdir()
    if plan.pip_layer is not None:
        plan.pip_layer.write()
    volcano = plan.volcano_files()
    if volcano:
        plan.volcano_dir.mkdir(parents=True)
        for name, text in volcano.items():
            (plan.volcano_dir / name).write_text(text)
    exclude = (local_root,)
    for worker in range(sandbox.workers):
        for directory in sandbox.layout_of(worker).directories():
            Path(directory).mkdir(parents=True, exist_ok=True)
        sandbox.cache(worker).mkdir(parents=True)
        if config.code_path is not None and stage_code:
            CodeTree(config.code_path, exclude=exclude).copy_to(sandbox.code_dir(worker))
        else:
            sandbox.code_dir(worker).mkdir(parents=True, exist_ok=True)
        if config.inputs is not None and stage_inputs:
            CodeTree(config.local_path(config.inputs), exclude=exclude).copy_to(sandbox.data_url(worker))
        if plan.job_bucket is not None:
            _bucket_links(Path(sandbox.layout_of(worker).home) / ".obs", plan.code_name)
    return sandbox


def _bucket_links(folder: Path, code_name: str) -> None:
    """A v1 job's bucket (``<home>/.obs``): relative links to its code, ``data_url_0`` and ``train_url_0``, so that
    ``mox.file.copy_parallel(args.data_url, ...)`` reads the staged inputs and what the job writes to ``args.train_url``
    lands in ``train_url_0``, delivered to ``output_path`` as ever."""
    folder.mkdir()
    for name, target in (("code", PurePosixPath("..") / contract.JOB_DIR / code_name),
                         ("inputs", PurePosixPath("..") / contract.INPUTS_DIR / "data_url_0"),
                         ("outputs", PurePosixPath("..") / contract.OUTPUTS_DIR / "train_url_0")):
        (folder / name).symlink_to(str(target))


def output_location(config: JobConfig, sandbox: Sandbox) -> Path:
    return config.local_path(config.output_path) if config.output_path else sandbox.default_output()


@dataclass(frozen=True)
class OutputConflict:
    """A file of ``train_url`` that several workers wrote with different contents."""

    path: str
    workers: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.path} (workers {', '.join(map(str, self.workers))})"


def output_conflicts(sandbox: Sandbox) -> list[OutputConflict]:
    """Files that more than one worker wrote into its ``train_url``, not all with the same contents."""
    seen: dict[str, list[int]] = {}
    for worker in range(sandbox.workers):
        base = sandbox.train_url(worker)
        for path in base.rglob("*"):
            if path.is_file() and not path.is_symlink():
                seen.setdefault(path.relative_to(base).as_posix(), []).append(worker)
    conflicts = []
    for rel, workers in sorted(seen.items()):
        first = sandbox.train_url(workers[0]) / rel
        if len(workers) > 1 and any(not filecmp.cmp(first, sandbox.train_url(w) / rel, shallow=False) for w in workers[1:]):
            conflicts.append(OutputConflict(rel, tuple(workers)))
    return conflicts


def deliver(config: JobConfig, sandbox: Sandbox) -> list[OutputConflict]:
    """Copy every worker's outputs to output_path (worker 0's last) and logs to log_url, whatever the job's end.

    Returns the output conflicts, which are also noted in worker 0's log.
    """
    try:
        return _deliver(config, sandbox)
    finally:
        release(sandbox.root)  # the job has ended: its sandbox is the run's to keep or remove


def _deliver(config: JobConfig, sandbox: Sandbox) -> list[OutputConflict]:
    target = output_location(config, sandbox)
    try:
        target.mkdir(parents=True, exist_ok=True)
        sweep_partials(target)  # half-copied files of a delivery killed earlier
    except OSError as exc:
        raise DeliveryError(f"output_path {str(target)!r} cannot be created ({exc.strerror or exc}); the intact outputs "
                            f"are in the sandbox, kept: {sandbox.train_url(0)}") from None
    conflicts = output_conflicts(sandbox) if sandbox.workers > 1 else []
    if conflicts:
        with open(sandbox.log_file(0), "a") as worker0_log:
            for conflict in conflicts:
                worker0_log.write(f"[pytest-modelarts] output conflict: {conflict} wrote different contents; output_path "
                          "has worker 0's, but online which node's copy is uploaded last is not defined: write "
                          "outputs from one worker (VC_TASK_INDEX == 0) or under per-worker names\n")
    for worker in reversed(range(sandbox.workers)):  # what the job wrote, whole: no policy applies to outputs
        try:
            deliver_tree(sandbox.train_url(worker), target)
        except OSError as exc:
            raise DeliveryError(
                f"delivering the outputs to output_path {str(target)!r} failed ({exc.strerror or exc}"
                f"{': ' + str(exc.filename) if exc.filename else ''}); the intact outputs are in the sandbox, kept: "
                f"{sandbox.train_url(0)}"
            ) from None
    if config.log_url:
        logs = config.local_path(config.log_url)
        try:
            logs.mkdir(parents=True, exist_ok=True)
            for log in sandbox.log_dir.glob("*.log"):
                shutil.copy2(log, logs / log.name)
        except OSError as exc:
            raise DeliveryError(f"copying the logs to log_url {str(logs)!r} failed ({exc.strerror or exc}); "
                                f"they are in the sandbox, kept: {sandbox.log_dir}") from None
    return conflicts


class DeliveryError(BackendError):
    """The outputs could not be delivered to output_path (read-only, full, a link in the way): the job fails."""


def deliver_tree(source: Path, target: Path) -> None:
    """Copy ``source``'s files under ``target``, each whole (a copy beside it, then a rename): a failure leaves no
    truncated file. A link already in ``target`` is replaced, never written through (it may point anywhere)."""
    for path in sorted(source.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        rel = path.relative_to(source)
        parent = target
        for part in rel.parts[:-1]:
            parent = parent / part
            if parent.is_symlink():
                raise OSError(errno.ELOOP, "a symlink in output_path, not written through", str(parent))
            parent.mkdir(exist_ok=True)
        dest = parent / rel.name
        if dest.is_dir() and not dest.is_symlink():
            raise OSError(errno.EISDIR, "a directory is in the way of an output file", str(dest))
        place_whole(path, dest)


def place_whole(source: Path, dest: Path) -> None:
    """Copy ``source`` (a file, or a link as a link) to ``dest`` through a copy beside it and a rename, so that
    ``dest`` is never seen half-written and an error leaves no partial file."""
    partial = partial_name(dest)
    try:
        if source.is_symlink():
            os.symlink(os.readlink(source), partial)
        else:
            shutil.copy2(source, partial)
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def walk(root: Path) -> Iterator[Path]:
    """``root`` and everything under it (links not followed); nothing when ``root`` does not exist."""
    if not root.exists():
        return
    yield root
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(base) / name


def remove(root: Path) -> None:
    """Remove a sandbox, also where overlayfs left work directories without permissions (as a non-root user)."""
    for work in root.glob("node/overlay/*/*/work/*"):
        if work.is_dir() and not work.is_symlink():
            work.chmod(0o700)
    shutil.rmtree(root, ignore_errors=True)
