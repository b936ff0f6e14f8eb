"""What of the host a sandboxed node sees: its base system, as a container sees its image's (see :mod:`.nodes`).

Nothing else of the host's top level is bound: no /root, /home, /srv, /opt, /var, /mnt, nor the project's checkout
wherever it lies; the environment, its interpreter and the job's own tree are bound one by one by the nodes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

#: the host's base system a node sees, read-only (as an image's own /usr): nothing else of the host's top level
#: (no /root, /home, /srv, /opt, /var, /mnt, nor the project's checkout wherever it lies); the environment, its
#: interpreter and the job's own tree are bound one by one (:meth:`JobNodes._extra_binds`, :meth:`worker_argv`)
BASE_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "sys")
#: the entries of the host's /etc a program may need (the dynamic loader, name resolution, certificates, time zone,
#: alternatives' links, Debian's python config); never its passwd, group, hosts (the node's own are generated),
#: shadow, sudoers, ssh keys, pip.conf or anything else of the host's configuration
BASE_ETC = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "host.conf", "gai.conf",
            "resolv.conf", "services", "protocols", "networks", "ethertypes", "localtime", "timezone", "ssl/certs",
            "ssl/openssl.cnf",
            "ca-certificates", "ca-certificates.conf", "pki", "mime.types", "magic", "magic.mime", "os-release",
            "debian_version", "lsb-release", "fonts", "environment", "profile", "profile.d", "bash.bashrc", "inputrc",
            "locale.alias", "python3", *(f"python3.{minor}" for minor in range(6, 15)))


def under_base(path: Path) -> bool:
    """True for a path the base view shows already (under /usr, /lib...)."""
    return len(path.parts) > 1 and path.parts[1] in BASE_DIRS and path.parts[1] != "sys"


@functools.cache
def host_base_view() -> tuple[str, ...]:
    """``--ro-bind`` the host's base directories (:data:`BASE_DIRS`) and the chosen entries of its /etc
    (:data:`BASE_ETC`), ``--symlink`` a top-level link among them (/lib -> usr/lib)."""
    args: list[str] = []
    for name in BASE_DIRS:
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--dir", "/etc"]
    for name in BASE_ETC:
        path = "/etc/" + name
        if os.path.islink(path) and not os.path.exists(path):
            continue  # a dangling link (resolv.conf of a resolver not running): nothing to show
        if os.path.islink(path) and not os.path.realpath(path).startswith("/etc/"):
            # e.g. /etc/localtime -> /usr/share/zoneinfo/..: the link as it is, its target is in the base
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path, *_hidden_within(path)]
    return tuple(args)


def _hidden_within(path: str) -> list[str]:
    """An empty tmpfs over each folder under ``path`` that others may not enter (``/etc/ssl/private``, 0700), an
    empty file (/dev/null) over each file others may not read: what the host keeps from its other users stays out
    of a node, even where the node's uid maps to the owner's (a root caller)."""
    if not os.path.isdir(path) or os.path.islink(path):
        return [] if os.path.islink(path) or os.stat(path).st_mode & 0o004 else ["--ro-bind", "/dev/null", path]
    hidden = []
    for base, dirs, files in os.walk(path):
        for name in list(dirs):
            folder = os.path.join(base, name)
            if not os.path.islink(folder) and not os.stat(folder).st_mode & 0o001:
                hidden += ["--tmpfs", folder]
                dirs.remove(name)
        for name in files:
            file = os.path.join(base, name)
            if not os.path.islink(file) and not os.stat(file).st_mode & 0o004:
                hidden += ["--ro-bind", "/dev/null", file]
    return hidden
