"""``import moxing.mxnet as mox``: the same ``mox.file``, run parameters and ``ModeKeys`` as ``moxing``; MoXing's
mxnet training APIs (``mox.run`` ...) are stand-ins that raise a clear error when used (see ``moxing._framework``)."""

from __future__ import absolute_import

from .. import file
from .._framework import framework_module

framework_module(globals(), __name__, file)
