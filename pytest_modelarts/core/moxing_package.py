"""The PyPI package named ``moxing`` is not ModelArts' MoXing: an environment or a code directory that asks for it is
refused before anything is locked, installed or sent online.

ModelArts' MoXing is preset in its notebook and training images and cannot be downloaded or installed by users
(Huawei's FAQ "How Do I Obtain a MoXing Installation File?", ``umn/source/faqs/training_jobs/functional_consulting/``
``how_do_i_obtain_a_moxing_installation_file.rst``); the package of that name on PyPI is an unrelated project. Local
jobs get pytest-modelarts' own ``moxing`` (docs/moxing.md).
"""

from __future__ import annotations

import re
from pathlib import Path

WHY = ("the PyPI package named 'moxing' is an unrelated project, not ModelArts' MoXing; ModelArts provides moxing in its "
       "images (and local jobs get pytest-modelarts' own moxing): remove 'moxing' from the requirements")

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str | None:
    """The normalised project name of a requirement (``MoXing[x]>=1`` -> ``moxing``), None for an option line."""
    found = _NAME.match(requirement)
    if found is None or requirement.lstrip().startswith("-"):
        return None
    return re.sub(r"[-_.]+", "-", found.group(1)).lower()


def names_moxing(requirement: str) -> bool:
    return requirement_name(requirement) == "moxing"


def moxing_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of each requirement of a requirements file that names the PyPI package ``moxing``."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        requirement = line.split(" #", 1)[0].strip()
        if requirement and not requirement.startswith("#") and names_moxing(requirement):
            found.append((number, line.strip()))
    return found
