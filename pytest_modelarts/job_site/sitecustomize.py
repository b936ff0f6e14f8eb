"""Loaded by Python at the start of every local job (``job_site`` is on its PYTHONPATH): one thing, then out of the way.

It registers :mod:`faulthandler` on SIGUSR1, so that a job stopped for its timeout first writes every thread's
Python stack into its log (where it was stuck), then loads the ``sitecustomize`` this file shadows, if the job's
environment has one (a conda layout may). Standard library only; it costs a fraction of a millisecond. Written in
the syntax of every Python a ModelArts engine has (2.7 included: it has neither faulthandler nor importlib.machinery,
so there it does nothing).
"""

import signal
import sys

try:
    import faulthandler
except ImportError:  # Python 2.7
    faulthandler = None  # type: ignore[assignment]
if faulthandler is not None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def _load_the_next_sitecustomize():
    # type: () -> None
    if sys.version_info < (3,):
        return
    import importlib.machinery
    import importlib.util
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    later = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", later)
    if spec is None or spec.loader is None or os.path.dirname(os.path.abspath(spec.origin or "")) == here:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_load_the_next_sitecustomize()
