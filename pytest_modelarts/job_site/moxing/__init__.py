"""A local MoXing (``import moxing as mox``), as ModelArts images preinstall it: ``mox.file`` and the run parameters.

Put on the PYTHONPATH of local jobs by pytest-modelarts; standard library only, in the syntax of every Python a ModelArts
engine has (2.7, 3.6 and later). ``obs://`` and ``s3://`` URLs are folders of the job's local OBS
(``PYTEST_MODELARTS_LOCAL_OBS``). ``moxing.framework``, ``moxing.tensorflow``, ``moxing.pytorch`` and
``moxing.mxnet`` have the same ``file``. See docs/moxing.md of pytest-modelarts.
"""

from __future__ import absolute_import

from . import file
from ._framework import PROVIDED, SUBMODULES, install_fallback, populate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "2.0.0+local"
__all__ = ["file", "ModeKeys", "get_flag", "set_flag", "get_hyper_parameter", "set_hyper_parameter", "__version__"]

populate(globals(), "moxing")


def _fallback(name):
    # type: (str) -> Any
    """``mox.tensorflow`` without its import imports it (as ``import moxing.tensorflow`` would); anything else is named."""
    from ._local import unsupported

    if name in SUBMODULES:
        import importlib

        return importlib.import_module(__name__ + "." + name)
    raise unsupported(__name__, name, list(PROVIDED) + ["moxing." + n for n in SUBMODULES])


install_fallback(__name__, _fallback)
