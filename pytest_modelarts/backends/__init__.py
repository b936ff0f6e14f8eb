"""Backends: where a job runs. Each is a plugin that registers itself through ``pytest_modelarts_register_backends``.

=========  ==========================================================================
``local``  boot-file jobs as supervised local processes (one per worker)
``docker`` custom-image jobs, or any local job on request, in Docker containers
``online`` ModelArts itself (or the project's emulator of its HTTP API)
=========  ==========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.hooks import hookimpl

if TYPE_CHECKING:
    from ..core.job import JobConfig
    from ..core.session import Session


@hookimpl(trylast=True)
def pytest_modelarts_select_backend(job_config: JobConfig, modelarts_session: Session) -> str:
    """The built-in choice: online flavors go online, custom images to Docker, the rest to local processes."""
    if not job_config.is_local:
        return "online"
    if job_config.is_custom_image:
        return "docker"
    return "local"
