"""``pip install`` at run time: a layer of the job's own over its environment, never the shared environment.

A boot file may install a package while it runs (``os.system('pip install x')``, the user guide's "method 2";
online the preset image's pip reaches ModelArts' pip mirror, ``MA_PIP_URL``). A local job's environment is cached,
shared by every job that locks to it, and read-only in a node; its interpreter may have no pip at all. So a job's
``pip`` is a small command of its own, first on ``PATH``: ``pip install`` puts packages into the job's layer
(``<sandbox>/pip-layer/site``, on ``PYTHONPATH``), through uv, for the job's interpreter, from ``MA_PIP_URL``.

Online jobs reach the pip mirror and nothing else; a local job reaches nothing by default. Reaching the index is
therefore a switch, off by default: ``PYTEST_MODELARTS_PIP_INDEX=1`` (or a job whose network reaches the outside,
``ContainerOptions(network_mode="host")``). Without it ``pip install`` prints one line saying how to allow it
and fails, as a job that needs the network fails in a node.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .oskit import atomic_write

#: the switch: a job may reach the package index (``1``/``true``/``yes``); off by default
SWITCH_VARIABLE = "PYTEST_MODELARTS_PIP_INDEX"
#: the layer under the job's sandbox
LAYER_DIR = "pip-layer"
#: where a node or a container sees the layer and uv: paths of their own, so that no host path (the sandbox's
#: folder, the checkout's virtual environment) appears in the job's view
LAYER_INSIDE = PurePosixPath("/run/pytest-modelarts/pip-layer")
UV_INSIDE = PurePosixPath("/run/pytest-modelarts/uv")
#: the line a job's ``pip install`` prints when it may not reach the index
REFUSAL = (f"pip install: this local job may not reach the package index (online, jobs reach ModelArts' pip mirror "
           f"MA_PIP_URL); allow it with {SWITCH_VARIABLE}=1 in the environment of pytest or of your script")


def switched_on(environ: Mapping[str, str]) -> bool:
    """Whether the caller's environment turns the switch on."""
    return environ.get(SWITCH_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class PipLayer:
    """The job's layer: ``bin/pip`` (and ``pip3``), ``site/`` where it installs, uv's cache."""

    root: Path
    #: the job's interpreter, which the installed packages are for
    python: Path
    #: the uv binary that installs (the one pytest-modelarts itself uses)
    uv: Path
    #: True when the job may reach the index (the switch, or a network that reaches the outside)
    reachable: bool
    #: what the install sees of the caller's settings beyond the job's variables: certificates, index settings
    #: (``contract.installer_environment``: never cloud keys), as the image's pip has its own
    settings: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def seen(self, *, inside: bool) -> PurePosixPath:
        """Where the job sees the layer: :data:`LAYER_INSIDE` in a node or a container, else its own folder."""
        return LAYER_INSIDE if inside else PurePosixPath(self.root)

    def write(self) -> None:
        """Lay the layer out: its folders and its ``pip``."""
        for folder in (self.bin, self.site, self.root / "cache"):
            folder.mkdir(parents=True, exist_ok=True)
        script = self._script().encode()
        for name in ("pip", "pip3"):
            atomic_write(self.bin / name, script, mode=0o755)

    def _script(self) -> str:
        # the layer's own folders from where the script lies (a node sees the layer at LAYER_INSIDE, a relocated job
        # at its folder); uv at UV_INSIDE where it is bound there
        python, host_uv = shlex.quote(str(self.python)), shlex.quote(str(self.uv))
        uv, site, cache = '"$uv"', '"$layer/site"', '"$layer/cache"'
        if self.reachable:
            settings = "".join(f"export {name}={shlex.quote(value)}; " for name, value in sorted(self.settings.items()))
            install = (f'{settings}export UV_CACHE_DIR={cache}; [ -n "$MA_PIP_URL" ] && export UV_INDEX_URL="$MA_PIP_URL"; '
                       f'exec {uv} pip install --python {python} --target {site} "$@"')
        else:
            install = f"echo {shlex.quote(REFUSAL)} >&2; exit 1"
        # pip's options that uv does not take, and that mean nothing for a layer: --user, --no-warn-script-location
        return f"""#!/bin/sh
# pip of a pytest-modelarts job: installs into the job's own layer, never into its shared environment
layer=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
uv={shlex.quote(str(UV_INSIDE))}
[ -x "$uv" ] || uv={host_uv}
if [ "$1" = install ]; then
    shift
    for arg in "$@"; do
        shift
        case "$arg" in --user|--no-warn-script-location|--no-cache-dir) ;; *) set -- "$@" "$arg" ;; esac
    done
    {install}
fi
export UV_CACHE_DIR={cache}
exec {uv} pip "$@" --python {python}
"""
