"""A local MoXing (``import moxing as mox``), as ModelArts images preinstall it: ``mox.file`` only.

Put on the PYTHONPATH of local jobs by pytest-modelarts; standard library only. ``obs://`` and ``s3://`` URLs are
folders of the job's local OBS (``PYTEST_MODELARTS_LOCAL_OBS``). See docs/moxing.md of pytest-modelarts.
"""

from __future__ import annotations

from . import file
from ._local import unsupported

__version__ = "2.0.0+local"
__all__ = ["file", "__version__"]


def __getattr__(name: str) -> object:
    raise unsupported(__name__, name, ["mox.file (" + ", ".join(file.__all__[:20]) + ")"])
