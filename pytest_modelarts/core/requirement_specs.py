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
        why = None
        if any(c in item for c in "\0\r\n"):
            why = "holds a line break or NUL: one package per entry"
        elif item.startswith("-"):
            why = "is an installer option, not a package (options such as -r, -e, --index-url are not taken here)"
        else:
            try:
                Requirement(item)
            except InvalidRequirement as exc:
                why = f"is not a requirement specifier ({str(exc).splitlines()[0]})"
        if why is not None:
            raise ParameterError(owner, "pip_packages", list(items), f"entry {item!r} {why}; each entry must be {EXAMPLES}")
