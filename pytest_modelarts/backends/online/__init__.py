"""The ``online`` backend: ModelArts v2 training jobs through the official SDKs (or the project's emulator).

Modules: :mod:`.backend` (checks, uploads, create and adopt), :mod:`.execution` (following a job),
:mod:`.body` (the v2 job body), :mod:`.uploads` (code and data to OBS), :mod:`.clients` (SDK clients, retries,
errors).
"""
