"""A local emulator of the ModelArts v2 training-job API and of OBS, for tests and CI.

::

    python -m pytest_modelarts.emulator --access-key AK --secret-key SK --project-id p1

or, in a test, the ``modelarts_emulator`` fixture of :mod:`pytest_modelarts.emulator.fixtures`. The emulator
checks request signatures, validates request bodies against the official SDK's models, stores OBS objects
in a directory tree and really runs submitted jobs through the local backend. See docs/online.md.
"""

from .faults import FaultInjector
from .server import Emulator

__all__ = ["Emulator", "FaultInjector"]
