"""A node shows a job what a ModelArts container would: its image (here the host's base system), its environment
and its own tree; nothing of the host's homes, secrets or checkout, nor another job's sandbox.

Every test runs a real job in a real bubblewrap sandbox; the boot file (code/probe.py) tries to reach each path and
reports what came of it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import pytest_modelarts
from pytest_modelarts import Estimator, JobPhase, Session
from pytest_modelarts.core.training_job import TrainingJob
from tests.support.waiting import wait_until

from .conftest import CODE

CHECKOUT = Path(pytest_modelarts.__file__).resolve().parents[1]


def probe(session: Session, *, read: Sequence[str] = (), write: Sequence[str] = (), listed: Sequence[str] = (),
          hold: str = "", wait: bool = True) -> TrainingJob:
    hyper = [{"label": "read", "value": json.dumps(list(read))}, {"label": "write", "value": json.dumps(list(write))},
             {"label": "list", "value": json.dumps(list(listed))}]
    if hold:
        hyper.append({"label": "hold", "value": hold})
    return Estimator(modelarts_session=session, code_dir=CODE, boot_file="probe.py", train_instance_type="local",
                     train_instance_count=1, hyperparameters=hyper).fit(wait=wait)


def report(job: TrainingJob) -> dict[str, Any]:
    line = wait_until(lambda: next((x for x in job.logs().splitlines() if x.startswith("PROBE ")), None),
                      what=lambda: f"the probe's report in {job.logs()!r}")
    found: dict[str, Any] = json.loads(line[len("PROBE "):])
    return found


def test_a_root_owned_secret_the_shadow_file_and_the_checkout_are_out_of_a_nodes_reach(outside_home_and_tmp: Path) -> None:
    """A root-owned 0600 file outside /home and /tmp, /etc/shadow, /root and the project's checkout: none is there to
    read, even when the caller is root (the node's uid maps to the caller's). Of /root and the checkout a node sees
    only the way to what the job runs with (its interpreter under /root/.pyenv, the environment in .venv)."""
    secret = outside_home_and_tmp / "secret"
    secret.write_text("host secret")
    secret.chmod(0o600)
    session = Session(local_root=outside_home_and_tmp / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
    paths = [str(secret), str(outside_home_and_tmp), "/etc/shadow", "/etc/gshadow", "/etc/ssl/private", "/srv", "/opt", "/var/lib",
             str(CHECKOUT / "pyproject.toml"), str(CHECKOUT / ".git"), os.path.expanduser("~/.ssh"), "/etc/ssh"]
    job = probe(session, read=paths, listed=["/root", str(CHECKOUT), "/etc"])
    assert job.phase is JobPhase.COMPLETED, job.logs()
    seen = report(job)
    assert seen["read"] == {path: "FileNotFoundError" for path in paths}
    assert "srv" not in seen["root"] and "opt" not in seen["root"]
    needed = {Path(sys.prefix).resolve(), Path(os.path.realpath(sys.executable)).parents[1], Path(sys.prefix)}
    for folder in ("/root", str(CHECKOUT)):  # only the way to the job's interpreter and environment, if any
        ways = {p.relative_to(folder).parts[0] for p in needed if Path(folder) in p.parents}
        assert set(seen["list"][folder] or ()) <= ways | {"pytest_modelarts"}, seen["list"][folder]  # + moxing's site
    assert {"shadow", "gshadow", "sudoers", "ssh", "pip.conf", "machine-id"}.isdisjoint(seen["list"]["/etc"])
    assert secret.read_text() == "host secret"  # and it exists on the host: the probe's failure is the node's view


def test_a_concurrent_jobs_cache_and_inputs_are_out_of_a_nodes_reach(outside_home_and_tmp: Path) -> None:
    """Two jobs under one local_root outside /home and /tmp (a CI runner's /srv/builds): the second sees nothing of
    the first's sandbox, its /cache included, while the first runs."""
    session = Session(local_root=outside_home_and_tmp / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
    first = probe(session, hold="first job's scratch", wait=False)
    try:
        assert first.sandbox is not None
        token = first.sandbox / "cache" / "worker-0" / "token"
        wait_until(token.exists, what=lambda: f"the first job's /cache token; its log: {first.logs()!r}")
        paths = [str(token), str(token.parent), str(first.sandbox), str(session.local_root)]
        second = probe(session, read=paths)
        assert second.phase is JobPhase.COMPLETED, second.logs()
        assert report(second)["read"] == {path: "FileNotFoundError" for path in paths}
        assert token.read_text() == "first job's scratch"
    finally:
        first.stop()


def test_the_environment_is_read_only_to_the_job(tmp_path: Path) -> None:
    """The job's interpreter and its environment are bound read-only: a job cannot plant a module in it nor change
    a file of it for the jobs that follow."""
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
    prefix = Path(sys.prefix)
    config = prefix / "pyvenv.cfg" if (prefix / "pyvenv.cfg").exists() else Path(os.__file__)
    before = config.read_bytes()
    job = probe(session, read=[str(prefix)], write=[str(prefix), str(config)])
    assert job.phase is JobPhase.COMPLETED, job.logs()
    seen = report(job)
    assert seen["read"] == {str(prefix): "done"}  # it is there: the job's interpreter runs from it
    assert seen["write"] == {str(prefix): "OSError", str(config): "OSError"}
    assert config.read_bytes() == before and not (prefix / "probe-was-here").exists()


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/hosts"])
def test_the_nodes_own_user_and_host_files_stand_for_the_hosts(tmp_path: Path, path: str) -> None:
    """The node's /etc/passwd and /etc/hosts are its own (generated), readable; the host's are not what it reads."""
    session = Session(local_root=tmp_path / "root", stream_logs=False, stop_grace_period=1, sandbox=True)
    job = probe(session, read=[path])
    assert job.phase is JobPhase.COMPLETED, job.logs()
    assert report(job)["read"] == {path: "done"}


def test_what_the_base_keeps_from_other_users_is_hidden_in_a_node(tmp_path: Path) -> None:
    """Within the /etc entries a node sees, a folder others may not enter and a file others may not read (as
    /etc/ssl/private) are covered, even for a root caller, whose node uid maps to the owner's."""
    import subprocess

    from pytest_modelarts.backends.local.baseview import _hidden_within

    etc = tmp_path / "etc-entry"
    (etc / "private").mkdir(parents=True)
    (etc / "private" / "key.pem").write_text("secret key")
    (etc / "private").chmod(0o700)
    (etc / "shadow-like").write_text("secret hash")
    (etc / "shadow-like").chmod(0o600)
    (etc / "public.conf").write_text("shown")
    hidden = _hidden_within(str(etc))
    argv = ["bwrap", "--unshare-user", "--uid", "1000", "--ro-bind", "/", "/", "--ro-bind", str(etc), str(etc), *hidden,
            "--", sys.executable, "-c",
            "import os, sys\nd = sys.argv[1]\ntry:\n    shadow = repr(open(d + '/shadow-like').read())\n"
            "except PermissionError:\n    shadow = 'denied'\n"
            "print(sorted(os.listdir(d + '/private')), shadow, open(d + '/public.conf').read())", str(etc)]
    seen = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    # the file is covered by /dev/null, which a user namespace's mount opens for nobody (nodev): denied, or empty
    assert seen.stdout.split()[0] == "[]" and seen.stdout.split()[1] in ("denied", "''") and seen.stdout.split()[2] == "shown"
