"""The ``conda-lock.yml`` of an environment: what a lock holds, and reading it.

How a lock is made (py-rattler for conda, uv for pip) and the lock modes are :mod:`.lock`'s and :mod:`.solve`'s.
The file is conda-lock's own format (version 1, written with its models), so ``conda-lock render`` and
conda-lock's parser accept it. What that format has no field for is kept in ``metadata.custom_metadata`` under
``pytest-modelarts.*``: the hash of the spec the lock was made from (also ``content_hash`` for the platform),
the spec itself (to say what changed when the lock is stale), where ``python`` comes from (``conda`` or
``local``) and the Python version pip packages were resolved for.
"""

from __future__ import annotations

import functools
import json
import platform as host
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.environment import CondaDependencies
from ..core.session import PythonSource
from ..errors import LockError, ParameterError
from .cache import lock_key

if TYPE_CHECKING:
    from conda_lock.lockfile.v2prelim.models import Lockfile  # untyped package: Any to mypy

#: channels used when the spec names none (ModelArts images resolve against their own defaults).
DEFAULT_CHANNELS = ("conda-forge",)
META = "pytest-modelarts."


#: conda subdirs of the common machines, by (platform.system(), platform.machine())
_SUBDIRS = {("Linux", "x86_64"): "linux-64", ("Linux", "aarch64"): "linux-aarch64", ("Linux", "ppc64le"): "linux-ppc64le",
            ("Linux", "s390x"): "linux-s390x", ("Darwin", "x86_64"): "osx-64", ("Darwin", "arm64"): "osx-arm64",
            ("Windows", "AMD64"): "win-64", ("Windows", "ARM64"): "win-arm64"}


@functools.cache
def current_platform() -> str:
    """The conda subdir of this machine (``linux-64``, ``linux-aarch64``...).

    The common machines from a table: importing rattler for this one string cost every pytest run ~25 ms, even
    with its locks up to date. Elsewhere rattler says (a test holds the table to rattler's answer here).
    """
    found = _SUBDIRS.get((host.system(), host.machine()))
    if found is not None:
        return found
    from rattler import Subdir

    return str(Subdir.current())


@dataclass(frozen=True)
class LockedPackage:
    """One package of a lock, as the builder needs it."""

    manager: str  # "conda" | "pip"
    name: str
    version: str
    platform: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    build: str | None = None

    def row(self) -> tuple[str | None, ...]:
        return (self.manager, self.name, self.version, self.platform, self.url, self.md5, self.sha256)


@dataclass(frozen=True)
class LockedEnvironment:
    """A lock read or written by :func:`lock_environment`."""

    path: Path
    platform: str
    python_source: str
    python_spec: str
    python_version: str  # major.minor the pip packages were resolved for
    spec_hash: str
    channels: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    written: bool = False  # True when this call (re)wrote the file
    key: str = field(default="", compare=False)
    sealed_hash: str | None = field(default=None, compare=False)  # the content hash written at solve time, if any
    #: each package's dependencies by name (``"conda:numpy"`` -> names), as the lock records them
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: True when the lock records its pip packages' dependencies too (locks written by this version)
    pip_graph: bool = field(default=False, compare=False)

    @property
    def conda(self) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.manager == "conda")

    @property
    def pip(self) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.manager == "pip")


def python_source_for(spec: CondaDependencies, requested: PythonSource | str | None = None) -> str:
    """``conda`` or ``local``: from ``requested``, else ``$PYTEST_MODELARTS_PYTHON``, else ``conda``."""
    try:
        source = PythonSource.resolve(requested, owner="lock_environment").value
    except ParameterError as exc:
        raise LockError(str(exc)) from None
    if source == "local":
        others = [s for s in spec.conda_packages if _spec_name(s) != "python"]
        if others:
            raise LockError(
                f"a local interpreter can serve only environments whose conda_packages pin just python; "
                f"this one also needs {others}: use python from conda (Session(python_source='conda'), pytest "
                "--modelarts-python-source=conda or PYTEST_MODELARTS_PYTHON=conda)"
            )
    return source


def _spec_name(spec: str) -> str:
    return re.split(r"[\s=<>!~\[]", spec.strip(), maxsplit=1)[0].lower()


def python_version_spec(spec: CondaDependencies) -> str:
    """The version part of the spec's ``python`` conda package as a conda version spec (``"3.11.*"``), or ``"*"``."""
    from rattler import MatchSpec

    for item in spec.conda_packages:
        if _spec_name(item) == "python":
            try:
                version = MatchSpec(item).version
            except Exception as exc:  # rattler's InvalidMatchSpecError
                raise LockError(f"conda package spec {item!r} is invalid: {exc}") from None
            return str(version) if version else "*"
    return "*"


def spec_hash(spec: CondaDependencies, python_source: str, platform: str) -> str:
    import hashlib

    payload = json.dumps({"spec": spec.to_dict(), "python": python_source, "platform": platform}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


# --- reading -------------------------------------------------------------------------------------------------

#: the last lock read at each path, with the file's identity then (inode, mtime, size): a lock is replaced atomically
#: (a new inode), so a rewritten lock is never mistaken for the one read
_READ_MEMO: dict[str, tuple[tuple[int, int, int, int], LockedEnvironment]] = {}


def read_lock(path: Path) -> LockedEnvironment | None:
    """Read a lock written by this module; None when the file is missing.

    This is the fast path taken on every run (a YAML load, once per version of the file: a job's environment, its
    promotion's parity check and its online requirements read it once between them); the builder
    validates the file with conda-lock's own parser (:func:`parse_with_conda_lock`) before it realises it.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    identity = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    memo = _READ_MEMO.get(str(path))
    if memo is not None and memo[0] == identity:
        return memo[1]
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is a directory" if path.is_dir() else f"cannot be read ({exc})"
        raise LockError(f"lock file {path} {reason}: give the path of a conda-lock.yml file") from None
    try:
        content = yaml.load(text, Loader=loader)
        if content.get("version") != LOCK_FORMAT:
            raise LockError(
                f"{path} has lock format version {content.get('version')!r}; pytest-modelarts reads and writes conda-lock's "
                f"format {LOCK_FORMAT}: re-lock with lock_mode='update' (pytest --modelarts-lock-mode=update)"
            )
        meta = content["metadata"]
        custom = meta.get("custom_metadata") or {}
        platform = meta["platforms"][0]
        packages = tuple(
            sorted(
                {
                    LockedPackage(
                        p["manager"], p["name"], str(p["version"]), p["platform"], p["url"],
                        (p.get("hash") or {}).get("md5"), (p.get("hash") or {}).get("sha256"), p.get("build"),
                    )
                    for p in content.get("package") or []
                },
                key=lambda p: (p.manager, p.name, p.platform),
            )
        )
        locked = LockedEnvironment(
            path=path,
            platform=platform,
            python_source=custom[META + "python"],
            python_spec=custom[META + "python-spec"],
            python_version=custom[META + "python-version"],
            spec_hash=custom[META + "spec-hash"],
            channels=tuple(json.loads(custom.get(META + "spec", "{}")).get("channels", [])),
            packages=packages,
            sealed_hash=custom.get(META + "content-hash"),
            dependencies={f"{p['manager']}:{p['name']}": tuple(str(d) for d in (p.get("dependencies") or {}))
                          for p in content.get("package") or []},
            pip_graph=str(custom.get(META + "pip-graph", "")).lower() == "true",
        )
    except (KeyError, AttributeError, TypeError, IndexError, ValueError, yaml.YAMLError) as exc:
        raise LockError(
            f"{path} is not a conda-lock.yml written by pytest-modelarts ({type(exc).__name__}: {exc}); "
            "delete it or re-lock with lock_mode='update' (pytest --modelarts-lock-mode=update)"
        ) from None
    locked = _with_key(locked)
    _READ_MEMO[str(path)] = (identity, locked)
    return locked


#: the conda-lock format version this module reads and writes
LOCK_FORMAT = 1


def content_hash(locked: LockedEnvironment) -> str:
    """A hash of what a lock pins (every package row, the platform, the python fields and the spec hash), written
    at solve time into ``custom_metadata`` so that a hand edit of the lock is detected when it is read."""
    import hashlib

    payload = json.dumps({"packages": [p.row() for p in locked.packages], "platform": locked.platform,
                          "python": [locked.python_source, locked.python_spec, locked.python_version],
                          "spec_hash": locked.spec_hash}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def contents_mismatch(locked: LockedEnvironment, spec: CondaDependencies, platform: str) -> str | None:
    """What in ``locked`` contradicts ``spec`` on ``platform`` (a lock made from this spec would not), or None.

    The spec hash says which spec the lock was made *from*; this checks what the lock *holds*, for locks written
    before the content hash, or edited along with their spec hash.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if locked.sealed_hash is not None and locked.sealed_hash != content_hash(locked):
        return ("it was edited after it was locked: its packages, platform or python-version are not what was solved "
                "(a package removed or a version changed would run, or be pinned online, unverified)")
    if locked.platform != platform:
        return f"it is locked for platform {locked.platform!r}, this machine is {platform!r}"
    pip = {canonicalize_name(p.name): p for p in locked.pip}
    for item in spec.pip_packages:
        try:
            req = Requirement(item)
        except InvalidRequirement:
            continue  # a URL or path requirement: the resolver's to judge
        found = pip.get(canonicalize_name(req.name))
        if found is None:
            return f"pip package {req.name!r} of the spec is not in the lock"
        if req.specifier and not req.specifier.contains(found.version, prereleases=True):
            return f"pip package {req.name} is locked at {found.version}, which the spec's {item!r} does not allow"
    conda = {p.name: p for p in locked.conda}
    for item in spec.conda_packages:
        name = _spec_name(item)
        if locked.python_source == "conda" and name not in conda:
            return f"conda package {name!r} of the spec is not in the lock"
    stray = unreached(locked, spec)
    if stray:
        return (f"{', '.join(stray)} follow{'s' if len(stray) == 1 else ''} from no package of the spec (no chain of "
                "dependencies leads there): a package added to the lock by hand would be installed unasked")
    python = conda.get("python")
    if python is not None and not (python.version + ".").startswith(locked.python_version + "."):
        return f"its python-version {locked.python_version!r} is not that of its python package ({python.version})"
    wanted = locked.python_spec.rstrip("*").rstrip(".")
    if wanted and not (locked.python_version + ".").startswith(wanted + "."):
        return f"its python-version {locked.python_version!r} does not match its python spec {locked.python_spec!r}"
    return None


def unreached(locked: LockedEnvironment, spec: CondaDependencies) -> list[str]:
    """The lock's packages that no chain of recorded dependencies leads to from the spec's packages (``pip:name``,
    ``conda:name``). Conda packages are always checked (a lock records their dependencies); pip packages where the
    lock records theirs too (:attr:`LockedEnvironment.pip_graph`)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    roots = {_spec_name(item) for item in spec.conda_packages} | {"python"}
    pip_roots = set()
    for item in spec.pip_packages:
        try:
            pip_roots.add(canonicalize_name(Requirement(item).name))
        except InvalidRequirement:
            return []  # a URL or path requirement: the resolver's to judge
    found: list[str] = []
    for manager, starts, checked in (("conda", roots, True), ("pip", pip_roots, locked.pip_graph)):
        names = {(canonicalize_name(p.name) if manager == "pip" else p.name): p.name
                 for p in locked.packages if p.manager == manager}
        if not checked or not names:
            continue
        reached, todo = set(), [n for n in starts if n in names]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            deps = locked.dependencies.get(f"{manager}:{names[name]}", ())
            todo += [d for d in ((canonicalize_name(x) if manager == "pip" else x) for x in deps) if d in names]
        found += [f"{manager} package {names[n]!r}" for n in sorted(names) if n not in reached]
    return found


def _with_key(locked: LockedEnvironment) -> LockedEnvironment:
    from dataclasses import replace

    key = lock_key((p.row() for p in locked.packages), python_source=locked.python_source,
                   python_spec=locked.python_spec, platform=locked.platform)
    return replace(locked, key=key)


def _import_conda_lock() -> None:
    """Import conda-lock's modules once, without the deprecation warnings its vendored conda emits on import
    (they concern conda-lock, not our users' code, and would show in every pytest run's summary)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import conda_lock.lockfile  # noqa: F401
        import conda_lock.lockfile.v2prelim.models  # noqa: F401
        import conda_lock.models.channel  # noqa: F401


def parse_with_conda_lock(path: Path) -> Lockfile:  # conda_lock is imported lazily (a slow import)
    """Parse ``path`` with conda-lock's own parser (raises :class:`LockError` when it refuses the file)."""
    _import_conda_lock()
    from conda_lock.lockfile import parse_conda_lock_file

    try:
        return parse_conda_lock_file(path)
    except Exception as exc:
        raise LockError(f"conda-lock cannot parse {path}: {exc}") from exc


def _spec_of(path: Path) -> dict[str, list[str]] | None:
    import yaml

    try:
        content = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        spec = json.loads(content["metadata"]["custom_metadata"][META + "spec"])
    except Exception:
        return None
    # what solve.py wrote: CondaDependencies.to_dict(), a dict of lists of strings; anything else is not ours
    if isinstance(spec, dict) and all(isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
                                      for k, v in spec.items()):
        return spec
    return None


def _describe_change(old: dict[str, list[str]] | None, new: CondaDependencies) -> str:
    if old is None:
        return "it was not made by pytest-modelarts"
    parts = []
    for name, items in new.to_dict().items():
        before = old.get(name, [])
        added = [i for i in items if i not in before]
        removed = [i for i in before if i not in items]
        if added:
            parts.append(f"{name} added {added}")
        if removed:
            parts.append(f"{name} removed {removed}")
    return "; ".join(parts) or "the python source or platform changed"
