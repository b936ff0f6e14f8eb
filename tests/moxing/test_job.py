"""A job's own interpreter, ``job_site`` on its PYTHONPATH: ``import moxing as mox`` and the classic ModelArts pattern."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import ENV_VARIABLE, JOB_SITE


def job_env(tmp_path: Path, local_obs: dict[str, object]) -> dict[str, str]:
    """What a local job gets: no pytest_modelarts on the path, the job site, the local OBS."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(JOB_SITE), ENV_VARIABLE: json.dumps(local_obs),
            "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}


def test_a_job_copies_its_data_from_obs_and_writes_its_results_back(tmp_path: Path) -> None:
    data = tmp_path / "obs" / "my-bucket" / "data"
    (data / "images").mkdir(parents=True)
    (data / "train.csv").write_text("x,y\n1,2\n")
    (data / "images" / "0.png").write_bytes(b"\x89PNG")
    outputs = tmp_path / "results-bucket"
    outputs.mkdir()
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import sys
        import moxing as mox
        mox.file.copy_parallel('obs://my-bucket/data', {str(cache / 'data')!r})
        rows = open({str(cache / 'data' / 'train.csv')!r}).read().splitlines()
        assert mox.file.exists('obs://my-bucket/data/images/0.png')
        mox.file.write('obs://results/out/result.txt', 'rows=%d' % len(rows))
        mox.file.copy({str(cache / 'data' / 'images' / '0.png')!r}, 's3://results/out/images/0.png')
        print(sorted(mox.file.list_directory('obs://results/out', recursive=True)))
        leaked = [m for m in sys.modules if m.startswith('pytest_modelarts')]
        assert not leaked, leaked
    """)
    env = job_env(tmp_path, {"root": str(tmp_path / "obs"), "buckets": {"results": str(outputs)}})
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['images', 'images/0.png', 'result.txt']"
    assert (cache / "data" / "train.csv").read_text() == "x,y\n1,2\n"
    assert (cache / "data" / "images" / "0.png").read_bytes() == b"\x89PNG"
    assert (outputs / "out" / "result.txt").read_text() == "rows=2"
    assert (outputs / "out" / "images" / "0.png").read_bytes() == b"\x89PNG"


def test_an_unknown_bucket_fails_the_job_with_the_bucket_named(tmp_path: Path) -> None:
    script = "import moxing as mox; mox.file.copy_parallel('obs://not-mapped/data', '/tmp/never')"
    env = job_env(tmp_path, {"root": None, "buckets": {}})
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "MoxLocalObsException: bucket 'not-mapped'" in done.stderr and "modelarts_obs_root" in done.stderr


def test_import_cost(tmp_path: Path) -> None:
    """Importing moxing loads nothing but moxing (no json, re, shutil, threads); the time is printed, not asserted."""
    script = "import sys; before = set(sys.modules); import moxing; print(sorted(set(sys.modules) - before))"
    env = job_env(tmp_path, {"root": None, "buckets": {}})
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # modules compiled into the interpreter (errno) cost nothing; which of them start-up loaded already depends on the
    # install (an editable install's finder imports some), so they are not counted
    loaded = set(ast.literal_eval(done.stdout)) - set(sys.builtin_module_names)
    assert loaded <= {"__future__", "moxing", "moxing.file", "moxing._compat", "moxing._framework", "moxing._local", "moxing._objects",
                      "moxing._ops"}, loaded
    for bytecode in ("source", "cached bytecode"):
        env["PYTHONDONTWRITEBYTECODE"] = "1" if bytecode == "source" else ""
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")  # the cache goes under tmp, not into the checkout
        times = []
        for _ in range(3):
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import moxing"], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=60)
            found = re.search(r"\|\s*(\d+)\s*\|\s*moxing$", done.stderr, re.MULTILINE)
            assert found, done.stderr
            times.append(int(found.group(1)) / 1000)
        print(f"import moxing (from {bytecode}): {min(times):.1f} ms (best of 3: {', '.join('%.1f' % t for t in times)} ms)")
