"""``pip_packages`` entries are requirement specifiers (PEP 508), nothing else.

They become lines of the requirements file uv resolves, and a requirements file takes options too: ``-r
/etc/passwd`` makes uv read that file, ``--index-url=...`` switches the index for every package, a line break
smuggles a second line. An entry is accepted only when it is one specifier (``numpy==1.26.4``,
``torch>=2; python_version>='3.9'``, ``pkg[extra]``, ``name @ https://...``): no option, no line break, no NUL.
"""

from __future__ import annotations

from ..errors import ParameterError

#: what an entry may look like, for the error message
EXAMPLES = "a requirement specifier such as 'numpy==1.26.4', 'torch>=2.1', 'pkg[extra]' or 'name @ https://...whl'"


def check_pip_packages(owner: str, items: tuple[str, ...]) -> None:
    """:class:`ParameterError` naming ``pip_packages`` for the first entry that is not one requirement specifier."""
    from packaging.requirements import InvalidRequirement, Requirement

    for item in items:
        why = _not_one_entry(item, "an installer option, not a package (options such as -r, -e, --index-url are not taken here)")
        if why is None:
            try:
                Requirement(item)
            except InvalidRequirement as exc:
                why = f"is not a requirement specifier ({str(exc).splitlines()[0]})"
        if why is not None:
            raise ParameterError(owner, "pip_packages", list(items), f"entry {item!r} {why}; each entry must be {EXAMPLES}")


def _not_one_entry(item: str, option: str) -> str | None:
    """Why ``item`` is not one package entry (a line break or NUL, or an option: ``is <option>``), else None."""
    if any(c in item for c in "\0\r\n"):
        return "holds a line break or NUL: one package per entry"
    if item.startswith("-"):
        return f"is {option}"
    return None


def conda_name(item: str) -> str:
    """The package name of a conda match spec (``python=3.11``, ``python 3.11.*``, ``conda-forge::numpy>=1``)."""
    name = item.split("::")[-1].strip()
    for i, c in enumerate(name):
        if c in " =<>!~[;":
            return name[:i].lower()
    return name.lower()


def check_conda_packages(owner: str, items: tuple[str, ...]) -> None:
    """:class:`ParameterError` naming ``conda_packages`` for an entry that is not one match spec, or a package
    pinned twice (``python=3.11`` and ``python=3.10``: which one the solver honours is not what the user meant)."""
    seen: dict[str, str] = {}
    for item in items:
        why = _not_one_entry(item, "a command-line option, not a package")
        if why is None:
            name = conda_name(item)
            if not name:
                why = "names no package"
            elif name in seen:
                raise ParameterError(owner, "conda_packages", list(items),
                                     f"{name} is pinned twice ({seen[name]!r} and {item!r}): give one spec per package")
            seen[name] = item
        if why is not None:
            raise ParameterError(owner, "conda_packages", list(items), f"entry {item!r} {why}; each entry must be a "
                                 "conda match spec such as 'python=3.11' or 'numpy>=1.26'")


def check_channels(owner: str, items: tuple[str, ...]) -> None:
    """:class:`ParameterError` naming ``channels`` for an entry that is an option or holds a NUL or a line break."""
    for item in items:
        if item.startswith("-") or any(c in item for c in "\0\r\n"):
            raise ParameterError(owner, "channels", list(items), f"entry {item!r} is not a channel: give a name such "
                                 "as 'conda-forge' or a URL such as 'file:///srv/channel'")


def check_lock_file(value: object) -> None:
    """:class:`ParameterError` naming ``lock_file`` unless it is a ``.yml``/``.yaml`` path that a lock can be
    written to: not a folder, not a pseudo file system, no NUL (a lock is written where this points)."""
    import os

    from .pathcheck import check_path

    check_path("Environment", "lock_file", value, written=True, folder=False)
    assert isinstance(value, (str, os.PathLike))
    text = os.fspath(value)
    if os.path.isdir(text):
        raise ParameterError("Environment", "lock_file", text, "is a folder: give the path of a conda-lock.yml file")
    if not text.endswith((".yml", ".yaml")):
        raise ParameterError("Environment", "lock_file", text, "must name a YAML file (e.g. 'mlp.conda-lock.yml'): "
                             "a lock is written there, and no other file is overwritten")
