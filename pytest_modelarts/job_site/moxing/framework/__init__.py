"""``moxing.framework``: MoXing's engine-independent part, whose ``file`` is ``mox.file`` (``from moxing.framework import
file``; ``import moxing.framework.file`` names the same module)."""

from __future__ import absolute_import

import sys

from .. import file

sys.modules[__name__ + ".file"] = file
__all__ = ["file"]
