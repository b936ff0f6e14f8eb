"""The ``online`` backend: ModelArts v2 training jobs through the official SDKs (or the project's emulator).

Modules: :mod:`.backend` (checks, uploads, create and adopt), :mod:`.execution` (following a job),
:mod:`.body` (the v2 job body), :mod:`.uploads` (code and data to OBS), :mod:`.clients` (SDK clients, retries,
errors).
"""

from .backend import OnlineBackend, create_job, find_job_by_name
from .body import build_job_body
from .execution import OnlineExecution
from .uploads import upload_tree

__all__ = ["OnlineBackend", "OnlineExecution", "build_job_body", "create_job", "find_job_by_name", "upload_tree"]
