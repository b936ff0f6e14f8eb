"""The ``local`` backend: boot-file jobs as supervised processes on this machine (one per worker)."""
