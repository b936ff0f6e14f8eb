"""Local code and inputs reach an online job through OBS, under content-addressed prefixes of the output bucket::

    obs://<bucket of output_path>/pytest-modelarts/code/<sha256 of the tree>/<code dir name>/...
    obs://<bucket of output_path>/pytest-modelarts/data/<sha256 of the tree>/<input name>[/...]

An upload is skipped when its ``.complete`` marker already exists, so unchanged code is uploaded once. The
environment travels with the code: its pinned pip packages become the code's ``pip-requirements.txt``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...core import contract
from ...core.codetree import CodeTree
from ...core.job import JobConfig
from .clients import Clients

OBS_PREFIX = "pytest-modelarts"
COMPLETE_MARKER = ".complete"


def upload_tree(clients: Clients, tree: CodeTree, bucket: str, kind: str) -> str:
    """Upload a file or directory under ``pytest-modelarts/<kind>/<sha256>/<name>``; return its obs:// URL.

    What is uploaded, and what the digest covers, is the code-tree policy's (core.codetree).
    """
    local = tree.root
    digest = tree.digest()
    base = f"{OBS_PREFIX}/{kind}/{digest}"
    prefix = f"{base}/{local.name}"
    url = f"obs://{bucket}/{prefix}" + ("/" if local.is_dir() else "")
    marker = clients.obs_call(f"checking obs://{bucket}/{base}/{COMPLETE_MARKER}",
                              lambda: clients.obs.getObjectMetadata(bucket, f"{base}/{COMPLETE_MARKER}"), ok_statuses=(404,))
    if marker.status < 300:
        return url
    for entry in tree.files():
        if entry.path.is_dir():  # a link to a directory inside the tree: its files, at the link's path
            linked = [(f"{entry.rel}/{sub.rel}", sub.path) for sub in CodeTree(entry.path.resolve()).files() if sub.path.is_file()]
        elif entry.path.is_file():
            linked = [(entry.rel, entry.path)]
        else:  # a dangling link: refused before a job starts (core.codetree)
            continue
        for rel, path in linked:
            key = prefix if local.is_file() else f"{prefix}/{rel}"

            def put(key: str = key, path: Path = path) -> Any:
                return clients.obs.putFile(bucket, key, str(path))

            clients.obs_call(f"uploading {path} to obs://{bucket}/{key}", put)
    clients.obs_call(f"uploading obs://{bucket}/{base}/{COMPLETE_MARKER}",
                     lambda: clients.obs.putContent(bucket, f"{base}/{COMPLETE_MARKER}", digest))
    return url


def online_requirements(config: JobConfig) -> str | None:
    """The ``pip-requirements.txt`` an online job needs for its Environment, or None.

    Pinned ``name==version`` from the environment's lock when it exists (no hashes: the online image may be
    another Python or platform than the lock's wheels), else the spec's pip packages as given.
    """
    env = config.environment
    if env is None or env.conda is None or not env.conda.pip_packages:
        return None
    from ...envs.lockfile import read_lock, spec_hash

    locked = read_lock(env.default_lock_path())
    if locked is not None and locked.spec_hash == spec_hash(env.conda, locked.python_source, locked.platform):
        lines = [f"{p.name}=={p.version}" for p in locked.pip]
    else:
        lines = list(env.conda.pip_packages)
    return "# written by pytest-modelarts from environment %r\n%s\n" % (env.name, "\n".join(lines))


@contextlib.contextmanager
def code_with_requirements(config: JobConfig) -> Iterator[CodeTree]:
    """The code tree to upload: as it is, or a copy with the Environment's ``pip-requirements.txt`` added."""
    tree = config.code_tree
    assert tree is not None
    requirements = online_requirements(config)
    own = [n for n in contract.REQUIREMENTS_FILES if (tree.root / n).is_file()]
    if requirements is None or own:
        yield tree
        return
    with tempfile.TemporaryDirectory(prefix="pytest-modelarts-code-") as tmp:
        staged = Path(tmp) / tree.root.name
        tree.copy_to(staged)
        (staged / contract.REQUIREMENTS_FILES[0]).write_text(requirements)
        yield CodeTree(staged)
