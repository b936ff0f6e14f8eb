"""The emulated flavor API and the flavor checks of a create request, from the catalog of :mod:`~pytest_modelarts.core.flavors`.

``GET /v2/{project_id}/training-job-flavors[?flavor_type=CPU|GPU]`` answers as "Obtaining the General Specifications
Supported by a Training Job" documents it (``total_count``, ``flavors``: ``FlavorResponse`` objects). A create request
whose ``spec.resource.flavor_id`` is not in the catalog is refused with ``ModelArts.2781`` (FlavorNotFound, "Flavor (%s)
not found."), one whose ``node_count`` exceeds the flavor's ``max_num`` with ``ModelArts.2793`` (FlavorOutOfRange,
"The number of flavor instances (%d) exceeds the maximum (%d)."), both 400 as the API's error-code table lists them
(``api-ref/source/appendix/error_codes.rst``). A job on a dedicated pool (``pool_id``) is not checked: its flavors are
the pool's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from ..core import flavors as fl


def listing(query: str) -> tuple[int, dict[str, Any]]:
    """The status and body of the flavor list; an unknown ``flavor_type`` is a 400, as any bad query parameter."""
    given = parse_qs(query).get("flavor_type")
    wanted = given[0] if given else None
    if wanted not in (None, "CPU", "GPU"):
        return 400, {"error_code": "ModelArts.0101", "error_msg": f"flavor_type {wanted!r} is not CPU or GPU"}
    return 200, fl.listing(wanted)


def flavor_problem(body: Any) -> tuple[str, str] | None:
    """(error code, message) when the body's flavor is unknown or its node count over ``max_num``; None otherwise."""
    resource = ((body or {}).get("spec") or {}).get("resource") or {}
    flavor_id, count = resource.get("flavor_id"), resource.get("node_count", 1)
    if not flavor_id or resource.get("pool_id"):
        return None
    flavor = fl.find(flavor_id)
    if flavor is None:
        return fl.FLAVOR_NOT_FOUND, f"Flavor ({flavor_id}) not found. The public flavors: {fl.known_ids()}"
    if isinstance(count, int) and count > flavor.max_num:
        return fl.FLAVOR_OUT_OF_RANGE, f"The number of flavor instances ({count}) exceeds the maximum ({flavor.max_num})."
    return None
