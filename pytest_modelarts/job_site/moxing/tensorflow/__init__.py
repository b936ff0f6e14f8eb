"""``import moxing.tensorflow as mox``: the same ``mox.file``, run parameters and ``ModeKeys`` as ``moxing``; MoXing's
tensorflow training APIs (``mox.run`` ...) are stand-ins that raise a clear error when used (see ``moxing._framework``)."""

from __future__ import absolute_import

from .. import file
from .._framework import PROVIDED, install_fallback, populate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["file", "ModeKeys", "get_flag", "set_flag", "get_hyper_parameter", "set_hyper_parameter"]

populate(globals(), __name__)


def _fallback(name):
    # type: (str) -> Any
    from .._local import unsupported

    raise unsupported(__name__, name, list(PROVIDED))


install_fallback(__name__, _fallback)
