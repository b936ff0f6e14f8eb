"""The emulator's preset engines: ``GET /v2/{project_id}/training-job-engines`` and the engine of a create request.

Both come from the project's one catalog (:mod:`pytest_modelarts.core.engines`). A create request's
``algorithm.engine`` names an engine by ``engine_id``, by ``engine_name`` + ``engine_version``, or a custom image
by ``image_url`` ("Creating a Training Job", Table JobEngine); it is required unless the request names an algorithm
(``id`` or ``subscription_id``). The error codes are the API reference's (appendix "Error Codes"):
``ModelArts.2780`` *EngineNotFound* ("AI engine(id:%s) not found.") for an engine the catalog does not have, and
``ModelArts.2830`` *MustHaveEngineId* for a request that names no engine where one is required.
"""

from __future__ import annotations

from typing import Any

from ..core import engines

ENGINE_NOT_FOUND = "ModelArts.2780"
ENGINE_MISSING = "ModelArts.2830"


def engines_document() -> dict[str, Any]:
    """The body of ``GET /v2/{project_id}/training-job-engines``."""
    items = [engine.api_item() for engine in engines.catalog()]
    return {"total": len(items), "items": items}


def engine_problem(algorithm: dict[str, Any], *, required: bool = True) -> tuple[str, str] | None:
    """``(error code, message)`` when ``algorithm.engine`` names no engine where the API requires one (unless not
    ``required``), or one the catalog does not have; None when it is fine."""
    if algorithm.get("id") or algorithm.get("subscription_id"):
        return None  # an algorithm of algorithm management brings its own engine
    engine = algorithm.get("engine") or {}
    if engine.get("image_url"):
        return None  # a custom image
    engine_id, name, version = engine.get("engine_id"), engine.get("engine_name"), engine.get("engine_version")
    if not (engine_id or name):
        if not required:
            return None
        return ENGINE_MISSING, ("algorithm.engine: is required for a code_dir + boot_file job: give engine_id, "
                                "engine_name + engine_version, or image_url")
    if engines.by_api_fields(name, version, engine_id) is None:
        shown = engine_id or f"{name} {version}"
        return ENGINE_NOT_FOUND, f"AI engine(id:{shown}) not found. The engines are: {engines.known()}"
    return None
