"""The emulated ModelArts v2 training-job API.

Endpoints (all under ``/v2/{project_id}``): ``POST training-jobs`` (create), ``GET training-jobs/{id}``,
``DELETE training-jobs/{id}``, ``POST training-jobs/{id}/actions`` (``{"action_type": "terminate"}``),
``GET training-jobs/{id}/tasks``, ``GET training-jobs/{id}/tasks/{task}/logs/preview`` and
``POST training-job-searches`` (filter ``name``), ``GET training-job-flavors`` (:mod:`.flavors`). Request bodies are checked against the official SDK's
models (``huaweicloudsdkmodelarts``): an unknown field or a wrong type is a 400, as are the fields the service
requires. Error bodies have the service's shape ``{"error_code": ..., "error_msg": ...}``; the codes
``ModelArts.0101`` (bad request) and ``ModelArts.0104`` (no such job) are the emulator's choice.
``GET training-job-engines`` lists the preset engines, and a create request's engine is checked against them
(:mod:`.engines`: the API's own error codes).

``algorithm.environments`` is checked as "Creating a Training Job" documents it (opentelekomcloud-docs/modelarts
``api-ref/source/training_management/creating_a_training_job.rst``, Table "JobAlgorithm"): names of letters,
digits and underscores not starting with a digit, keys of at most 8,192 and values of at most 4,096
characters, at most 100 pairs, "Variables cannot contain $" (the rules the online backend checks before it sends a
body: :func:`~pytest_modelarts.backends.online.body.environment_problems`). A violation is a 400 with the code
``ModelArts.2802`` (:data:`ENV_ERROR_CODE`): the emulator's choice, the real code is not documented.

A body is also held to the v2 runtime contract the local runs reproduce (:func:`contract_problems`, from
:mod:`pytest_modelarts.core.contract`): ``algorithm.working_dir`` is ``MA_JOB_DIR`` for a boot file, ``MA_HOME`` for
a custom image; the boot file lies inside ``code_dir``; input ``i`` is named so that ModelArts downloads it where
``--data_url`` points (``inputs/data_url_<i>``), output ``i`` so that it is uploaded from where ``--train_url``
points (``outputs/train_url_<i>``). A body that disagrees is a 400 (``ModelArts.0101``) naming the field and the
contract's value: a job that ran locally would not run the same online.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from ..backends.online.body import environment_problems
from ..core.contract import V2_CONTRACT
from ..core.location import Location
from . import flavors
from .engines import engine_problem, engines_document
from .obs import ObsStore, Response
from .runner import EmulatedJob

JSON = "application/json"
JOB_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: the error code of a refused algorithm.environments (not documented: the emulator's choice)
ENV_ERROR_CODE = "ModelArts.2802"
_PRIMITIVES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float),
                                            "object": (object,), "date": (str,), "datetime": (str,)}


def ok(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), {"Content-Type": JSON, "X-Request-Id": uuid.uuid4().hex})


def api_error(status: int, code: str, message: str) -> Response:
    return ok({"error_code": code, "error_msg": message}, status)


def check_against_model(data: Any, type_name: str, where: str) -> list[str]:
    """Problems of ``data`` as an instance of the SDK type ``type_name`` (``Job``, ``list[Input]``...)."""
    from huaweicloudsdkmodelarts.v1 import model

    if data is None:
        return []
    m = re.match(r"^list\[(.*)\]$", type_name)
    if m:
        if not isinstance(data, list):
            return [f"{where}: must be a list"]
        return [p for i, item in enumerate(data) for p in check_against_model(item, m.group(1), f"{where}[{i}]")]
    m = re.match(r"^dict\(([^,]*), (.*)\)$", type_name)
    if m:
        if not isinstance(data, dict):
            return [f"{where}: must be an object"]
        return [p for k, v in data.items() for p in check_against_model(v, m.group(2), f"{where}.{k}")]
    if type_name in _PRIMITIVES:
        expected = _PRIMITIVES[type_name]
        if type_name in ("int", "float") and isinstance(data, bool) or not isinstance(data, expected):
            return [f"{where}: must be {type_name}"]
        return []
    klass = getattr(model, type_name, None)
    if klass is None:
        return []
    if not isinstance(data, dict):
        return [f"{where}: must be an object ({type_name})"]
    by_json = {json_name: attr for attr, json_name in klass.attribute_map.items()}
    problems = []
    for key, value in data.items():
        attr = by_json.get(key)
        if attr is None:
            problems.append(f"{where}.{key}: unknown field of {type_name}")
            continue
        problems += check_against_model(value, klass.openapi_types[attr], f"{where}.{key}")
    return problems


def check_create_body(body: Any) -> list[str]:
    """Problems of a create request the ``Job`` model lets through (the caller checks the model first)."""
    if not isinstance(body, dict):
        return ["body: must be an object"]
    problems: list[str] = []
    if body.get("kind") not in ("job", None):
        problems.append("kind: must be 'job'")
    name = (body.get("metadata") or {}).get("name")
    if not name:
        problems.append("metadata.name: is required")
    elif not JOB_NAME.match(name):
        problems.append("metadata.name: must match [a-zA-Z0-9_-]{1,64}")
    algorithm = body.get("algorithm") or {}
    engine = algorithm.get("engine") or {}
    if not (algorithm.get("id") or algorithm.get("subscription_id")):
        if not (algorithm.get("code_dir") and algorithm.get("boot_file")) and not (engine.get("image_url") and algorithm.get("command")):
            problems.append("algorithm: give code_dir + boot_file, or engine.image_url + command, or an algorithm id")
    for field_name in ("code_dir", "boot_file"):
        value = algorithm.get(field_name)
        if value and Location(value).scheme != "obs" and not value.startswith("/"):  # obs://b/k or the /b/k form
            problems.append(f"algorithm.{field_name}: must be an OBS path")
    problems += contract_problems(algorithm)
    resource = (body.get("spec") or {}).get("resource") or {}
    if not resource.get("flavor_id") and not resource.get("pool_id"):
        problems.append("spec.resource.flavor_id: is required")
    count = resource.get("node_count", 1)
    if not isinstance(count, int) or count < 1:
        problems.append("spec.resource.node_count: must be an int >= 1")
    return problems


def contract_problems(algorithm: dict[str, Any]) -> list[str]:
    """Where ``algorithm`` disagrees with the v2 contract: its working directory, its boot file's place, the names
    of its inputs and outputs (see the module docstring)."""
    layout = V2_CONTRACT.layout()
    problems = []
    custom = bool((algorithm.get("engine") or {}).get("image_url"))
    working_dir = algorithm.get("working_dir")
    expected = layout.home if custom else layout.job_dir
    if working_dir and PurePosixPath(working_dir) != expected:
        what = "a custom image's command runs in MA_HOME" if custom else "a boot file runs in MA_JOB_DIR"
        problems.append(f"algorithm.working_dir: {working_dir!r} is not {str(expected)!r} ({what})")
    code_dir, boot_file = algorithm.get("code_dir"), algorithm.get("boot_file")
    if code_dir and boot_file and not boot_file.startswith(code_dir.rstrip("/") + "/"):
        problems.append(f"algorithm.boot_file: must lie inside algorithm.code_dir (it runs from "
                        f"{layout.job_dir}/<code dir name>/)")
    for field_name, base, at in (("inputs", layout.inputs_dir, layout.data_url), ("outputs", layout.outputs_dir, layout.train_url)):
        for i, item in enumerate(algorithm.get(field_name) or []):
            name = item.get("name")
            if not name or base / f"{name}_{i}" != at(i):
                expected_name = at(i).name.rpartition("_")[0]
                problems.append(f"algorithm.{field_name}[{i}].name: {name!r} is not {expected_name!r} (ModelArts puts it at "
                                f"{base}/<name>_{i}, and the boot file is given {at(i)})")
    return problems


class TrainingService:
    """State and handlers of the emulated v2 training-job API."""

    def __init__(self, *, project_id: str, store: ObsStore, work_root: Path, phase_delay: float, python: str | None) -> None:
        self.project_id = project_id
        # the settings every job of the service is made with
        self._new_job = functools.partial(EmulatedJob, store=store, work_root=work_root, phase_delay=phase_delay, python=python)
        self.jobs: dict[str, EmulatedJob] = {}
        self.create_requests = 0
        #: a code_dir + boot_file job must name an engine, as the API requires (:mod:`.engines`); False lets an
        #: engine-less body through, for a client that knowingly sends one (the project's example names none)
        self.require_engine = True
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, body: bytes) -> Response:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 3 or parts[0] != "v2":
            return api_error(404, "ModelArts.0104", f"no such API: {method} {path}")
        if parts[1] != self.project_id:
            return api_error(403, "ModelArts.0103", f"project {parts[1]} does not match the credentials' project")
        rest = parts[2:]
        data: Any = None
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                return api_error(400, "ModelArts.0101", "the request body is not JSON")
        if rest == ["training-jobs"] and method == "POST":
            return self._create(data)
        if rest == ["training-job-flavors"] and method == "GET":  # the catalog's (flavors.py)
            status, listing = flavors.listing(query)
            return ok(listing, status)
        if rest == ["training-job-searches"] and method == "POST":
            return self._search(data or {})
        if rest == ["training-job-engines"] and method == "GET":
            return ok(engines_document())
        if len(rest) >= 2 and rest[0] == "training-jobs":
            job = self.jobs.get(rest[1])
            if job is None:
                return api_error(404, "ModelArts.0104", f"training job {rest[1]} does not exist")
            tail = rest[2:]
            if not tail and method == "GET":
                return ok(job.document())
            if not tail and method == "DELETE":
                job.stop()
                with self._lock:
                    self.jobs.pop(job.id, None)
                return Response(202)
            if tail == ["actions"] and method == "POST":
                problems = check_against_model(data, "JobActionType", "body")
                if problems or (data or {}).get("action_type") != "terminate":
                    return api_error(400, "ModelArts.0101", "; ".join(problems) or "action_type must be 'terminate'")
                job.stop()
                return ok(job.document(), 202)
            if tail == ["tasks"] and method == "GET":
                return ok([{"task": t, "ip": f"192.168.0.{i + 2}", "host_ip": "127.0.0.1", "schedule_count": 1}
                           for i, t in enumerate(job.tasks)])
            if len(tail) == 4 and tail[0] == "tasks" and tail[2:] == ["logs", "preview"] and method == "GET":
                if tail[1] not in job.tasks:
                    return api_error(404, "ModelArts.0104", f"task {tail[1]} does not exist; tasks: {', '.join(job.tasks)}")
                text = job.log(tail[1])
                size = len(text.encode())
                return ok({"content": text, "current_size": size, "full_size": size})
        return api_error(404, "ModelArts.0104", f"no such API: {method} {path}")

    def _create(self, data: Any) -> Response:
        with self._lock:
            self.create_requests += 1
        problems = check_against_model(data, "Job", "body")
        if not problems and isinstance(data, dict):
            env_problems = environment_problems(((data.get("algorithm") or {}).get("environments") or {}).items())
            if env_problems:
                return api_error(400, ENV_ERROR_CODE, "invalid training job: " + "; ".join(env_problems))
        problems = problems or check_create_body(data)
        engine_refusal = engine_problem(data.get("algorithm") or {}, required=self.require_engine) if not problems and isinstance(data, dict) else None
        if engine_refusal is not None:
            return api_error(400, *engine_refusal)
        if problems:
            return api_error(400, "ModelArts.0101", "invalid training job: " + "; ".join(problems))
        refused = flavors.flavor_problem(data)  # unknown, or more nodes than its max_num
        if refused is not None:
            return api_error(400, *refused)
        job = self._new_job(data)
        with self._lock:
            self.jobs[job.id] = job
        job.start()
        return ok(job.document(), 201)

    def _search(self, data: dict[str, Any]) -> Response:
        problems = check_against_model(data, "JobSearches", "body")
        if problems:
            return api_error(400, "ModelArts.0101", "; ".join(problems))
        with self._lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.create_time, reverse=True)
        for flt in data.get("filters") or []:
            key, op, values = flt.get("key"), flt.get("operator", "like"), flt.get("value") or []
            if key == "name":
                if op == "like":
                    jobs = [j for j in jobs if any(v in j.name for v in values)]
                else:
                    jobs = [j for j in jobs if j.name in values]
            elif key == "phase":
                jobs = [j for j in jobs if j.phase in values]
        offset = int(data.get("offset") or 0)
        limit = int(data.get("limit") or 10)
        page = jobs[offset: offset + limit]
        return ok({"total": len(jobs), "count": len(page), "limit": limit, "offset": offset,
                   "sort_by": "create_time", "order": "desc", "items": [j.document() for j in page]})
