"""A job's sandbox on this machine: the ``MA_HOME`` tree a local run works in, shared by local backends.

::

    <local_root>/runs/<job_name>-<job_id>/
        home/                               MA_HOME (the process backend's view; containers mount it)
            modelarts/                      MA_MOUNT_PATH
                user-job-dir/<code dir>/    a copy of code_dir (the platform downloads it)
                inputs/data_url_0/          a copy of the inputs (the platform downloads them)
                outputs/train_url_0/        written by the job, copied to output_path afterwards
                log/<vj>-worker-<i>.log     stdout+stderr of each worker
        status/worker-<i>.json              how each worker ended (written by the supervisor)
        output/                             the default output_path of a local run

Outputs are copied to ``output_path`` when the job ends, whether it completed, failed or was stopped, as the
platform uploads them; logs are copied to ``log_url`` the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import contract
from ..config import JobConfig
from ..errors import BackendError


def _local(url: str) -> Path:
    return Path(url.removeprefix("file://")).expanduser()


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".git"))


@dataclass(frozen=True)
class Sandbox:
    root: Path
    code_name: str
    job_id: str

    @property
    def layout(self) -> contract.Layout:
        """The contract's paths as a local process sees them."""
        return contract.Layout.local(self.root)

    @property
    def home(self) -> Path:
        return Path(self.layout.home)

    @property
    def log_dir(self) -> Path:
        return Path(self.layout.log_dir)

    @property
    def train_url(self) -> Path:
        return Path(self.layout.train_url())

    @property
    def data_url(self) -> Path:
        return Path(self.layout.data_url())

    @property
    def code_dir(self) -> Path:
        return Path(self.layout.code_dir(self.code_name))

    def log_name(self, worker: int) -> str:
        return f"{contract.vj_name(self.job_id)}-{contract.TASK_NAME}-{worker}.log"

    def log_file(self, worker: int) -> Path:
        return self.log_dir / self.log_name(worker)

    def status_file(self, worker: int) -> Path:
        return self.root / "status" / f"worker-{worker}.json"

    def default_output(self) -> Path:
        return self.root / "output"


def create_sandbox(config: JobConfig, job_id: str, local_root: Path) -> Sandbox:
    """Lay out the sandbox and copy code and inputs in, as the platform downloads them."""
    assert config.code_path is not None or config.is_custom_image
    code_name = contract.code_dir_name(config.code_dir) if config.code_dir else "code"
    root = (local_root / "runs" / f"{config.job_name}-{job_id}").resolve()
    try:
        root.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise BackendError(f"sandbox {root} exists already") from None
    sandbox = Sandbox(root=root, code_name=code_name, job_id=job_id)
    for directory in sandbox.layout.directories():
        Path(directory).mkdir(parents=True, exist_ok=True)
    (root / "status").mkdir()
    if config.code_path is not None:
        _copy_tree(config.code_path, sandbox.code_dir)
    else:
        sandbox.code_dir.mkdir(parents=True)
    if config.inputs is not None:
        source = _local(config.inputs)
        if source.is_dir():
            _copy_tree(source, sandbox.data_url)
        else:
            shutil.copy2(source, sandbox.data_url / source.name)
    return sandbox


def data_url_for(config: JobConfig, data_url: os.PathLike[str] | str) -> str:
    """``--data_url``: the inputs directory, or the file itself when inputs name one file."""
    if config.inputs is not None and not _local(config.inputs).is_dir():
        return str(Path(data_url) / _local(config.inputs).name)
    return str(data_url)


def output_location(config: JobConfig, sandbox: Sandbox) -> Path:
    return _local(config.output_path) if config.output_path else sandbox.default_output()


def deliver(config: JobConfig, sandbox: Sandbox) -> None:
    """Copy outputs to output_path and logs to log_url (after the job, whatever its end)."""
    target = output_location(config, sandbox)
    target.mkdir(parents=True, exist_ok=True)
    _copy_tree(sandbox.train_url, target)
    if config.log_url:
        logs = _local(config.log_url)
        logs.mkdir(parents=True, exist_ok=True)
        for log in sandbox.log_dir.glob("*.log"):
            shutil.copy2(log, logs / log.name)


def install_requirements(python: Path, sandbox: Sandbox, target: Path, log: Path) -> None:
    """What preset images do with a requirements file in the code dir: ``pip install -r`` it before the job.

    Installed into ``target`` (put on PYTHONPATH) so that neither the cached environment nor the user's
    interpreter is modified; uv does the install, and its output goes to the job's log.
    """
    files = [p.name for p in sandbox.code_dir.iterdir()]
    name = contract.requirements_file(files)
    if name is None:
        return
    from uv import find_uv_bin

    with open(log, "ab") as out:
        out.write(f"[pytest-modelarts] installing {name} (the platform does this before the boot file)\n".encode())
        out.flush()
        result = subprocess.run(
            [find_uv_bin(), "pip", "install", "--python", str(python), "--target", str(target), "-r", str(sandbox.code_dir / name)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    if result.returncode != 0:
        raise BackendError(f"installing {name} from the code directory failed (exit {result.returncode}); see {log}")
