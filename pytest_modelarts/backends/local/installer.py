"""Package installs of a job (its code directory's requirements file) run in an *installer node*, not on the host.

A package's build runs its own code (an sdist's ``setup.py``, a local project's build backend): on the platform it
runs inside the job's container, which holds nothing of anyone's but the job's. Here it gets the same: the node's
view of the files (the base system, the environment read-only, worker 0's home and a copy-on-write view of the
code), the target folder writable, uv bound read-only, an environment of the contract's installer variables only
(no cloud keys, no caller's variables), a pid namespace of its own (no host process's ``/proc``), and the job's
namespaces, so that it ends with the job. Its network is the host's: the installer needs the package index, as the
platform's pip reaches its mirror (:meth:`.nodes.JobNodes.installer_argv`); uv's cache is a private ``/tmp`` of the
installer node, so a package cannot plant anything in a cache another install reads.

Where the job is not sandboxed (the relocated mode) the install runs on the host as the job itself does, with the
installer's environment only.

:func:`install_packages` is the one way to install packages for a job (the requirements file, and any other layer
of packages a job's run asks for): give it uv's arguments after ``pip install``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from ...core import contract
from ...core.deathsig import die_with_parent
from ...errors import BackendError
from .nodes import JobNodes

#: where uv lies inside an installer node (a tmpfs of the node's: nothing of the host's /run is there)
UV_INSIDE = PurePosixPath("/run/installer/uv")
#: the installer variables that mean something inside a node; paths of the host (a CA bundle, uv's cache, a netrc)
#: do not, and credentials in a netrc stay on the host
NODE_PASSTHROUGH = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
                    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_FIND_LINKS",
                    "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX", "UV_NATIVE_TLS", "UV_OFFLINE",
                    "UV_FIND_LINKS", "LANG", "LC_ALL", "TZ")

#: certificate variables, passed where they name a file of the node's base view (a CA bundle in /etc/ssl): an
#: index behind a TLS-inspecting proxy is reached with the host's own trust store
CERTIFICATES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT", "REQUESTS_CA_BUNDLE")
VISIBLE_CERTIFICATES = ("/etc/ssl/", "/etc/pki/", "/etc/ca-certificates/", "/usr/")


def node_environment(inherit: Mapping[str, str], home: PurePosixPath) -> dict[str, str]:
    """What an install in a node sees: the index and proxy settings of ``inherit``, a home and a private cache."""
    env = {name: inherit[name] for name in NODE_PASSTHROUGH if name in inherit}
    env.update({name: inherit[name] for name in CERTIFICATES
                if os.path.normpath(inherit.get(name, "")).startswith(VISIBLE_CERTIFICATES)
                or os.path.normpath(inherit.get(name, "")) + "/" in VISIBLE_CERTIFICATES})
    env.update({"PATH": contract.BASE_PATH, "HOME": str(home), "UV_CACHE_DIR": "/tmp/uv-cache", "TMPDIR": "/tmp",
                "UV_NO_CONFIG": "1", "UV_LINK_MODE": "copy"})
    return env


def install_packages(nodes: JobNodes | None, *, python: Path, arguments: Sequence[str], target: Path, code_dir: Path,
                     log: Path, what: str, inherit: Mapping[str, str] | None = None) -> None:
    """``uv pip install --python <python> --target <target> <arguments>`` for a job, from its code directory, its
    output appended to ``log``; in ``nodes``' installer node, or on the host when the job is not sandboxed
    (``nodes`` None, ``code_dir`` the host's). :class:`BackendError` naming ``what`` when it fails."""
    from uv import find_uv_bin

    inherit = os.environ if inherit is None else inherit
    uv = Path(find_uv_bin()).resolve()
    uv_args = ["pip", "install", "--python", str(python), "--target", str(target), *arguments]
    tools = [(uv, UV_INSIDE)]
    installer = [str(UV_INSIDE), *uv_args]
    if python.resolve().name.startswith("python2"):  # uv installs for Python 3.6+ only: 2.7's own pip, as its images
        installer = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-warn-script-location",
                     "--target", str(target), *arguments]
        tools = []
    if nodes is not None:
        home = nodes.plan.layout.home
        argv = nodes.installer_argv(installer, node_environment(inherit, home), writable=[target], tools=tools)
        env, cwd = {"PATH": os.environ.get("PATH", contract.BASE_PATH)}, nodes.root
    else:
        argv = [str(uv), *uv_args] if tools else installer
        env, cwd = contract.installer_environment(inherit), code_dir
    with open(log, "ab") as out:
        out.write(f"[pytest-modelarts] installing {what} (the platform does this before the boot file)\n".encode())
        out.flush()
        start = out.tell()
        # the installer dies with us (a kill of pytest leaves no uv writing on); in a node, with the job's holder too
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                env=env, preexec_fn=die_with_parent)
    if result.returncode != 0:
        raise BackendError(_install_failure(what, result.returncode, log, start))


def _install_failure(what: str, code: int, log: Path, start: int, lines: int = 12) -> str:
    """The installer's cause first (uv's ``cause:`` or ``error:`` line), then its last lines: the fix is in them."""
    with open(log, "rb") as f:
        f.seek(start)
        output = f.read()[-64 * 1024:].decode(errors="replace").splitlines()
    said = [line.strip() for line in output if line.strip()]
    why = next((line for line in reversed(said) if line.startswith(("cause:", "error:", "ERROR:"))), said[-1] if said else "")
    why = why.split(":", 1)[1].strip() if why.startswith(("cause:", "error:", "ERROR:")) else why
    tail = "\n".join(output[-lines:])
    return (f"{why} ({what} in the code directory could not be installed: exit {code})\n"
            f"--- the installer's last lines ---\n{tail}\n--- log: {log}")
