"""One promotion asks each thing once: one handle per online job, one set of SDK clients per session, one reading of
each tree and of the lock, one adoption window; counted through real objects against the emulator."""

from __future__ import annotations

import collections
import os
import time
from dataclasses import replace

import pytest

from pytest_modelarts import Estimator
from pytest_modelarts.backends.online.backend import ADOPT_WINDOW_S, OnlineBackend
from pytest_modelarts.backends.online.clients import Clients
from pytest_modelarts.core.codetree import CodeTree
from pytest_modelarts.core.contract import Version
from pytest_modelarts.core.hooks import hookimpl
from pytest_modelarts.core.runner import new_plugin_manager
from pytest_modelarts.envs.lockfile import read_lock
from pytest_modelarts.promotion import Ledger, SmokeRun, promote
from pytest_modelarts.promotion.ledger import SUBMITTING
from pytest_modelarts.promotion.promote import submit

from .conftest import FLAVOR, PYTORCH


class CountingOnline(OnlineBackend):
    """The online backend, counting what promotion asks of it."""

    name = "counting-online"
    calls: collections.Counter[str] = collections.Counter()

    def start(self, plan):  # type: ignore[no-untyped-def]
        self.calls["start"] += 1
        return super().start(plan)

    def attach(self, online_job_id, config):  # type: ignore[no-untyped-def]
        self.calls["attach"] += 1
        return super().attach(online_job_id, config)

    def find_job(self, name, *, created_after=0.0):  # type: ignore[no-untyped-def]
        self.calls["find_job"] += 1
        return super().find_job(name, created_after=created_after)


class _Register:
    @hookimpl
    def pytest_modelarts_register_backends(self, registry):  # type: ignore[no-untyped-def]
        registry.register(CountingOnline)

    @hookimpl
    def pytest_modelarts_select_backend(self, job_config, modelarts_session):  # type: ignore[no-untyped-def]
        return None if job_config.is_local else CountingOnline.name


@pytest.fixture
def counted(modelarts_emulator):
    """A session whose jobs run on the counting backend, and its counter."""
    CountingOnline.calls = collections.Counter()
    session = modelarts_emulator.session(plugin_manager=new_plugin_manager({"counting": _Register()}))
    return session, CountingOnline.calls


def _config(session, code, data, name="once"):
    est = Estimator(modelarts_session=session, code_dir=str(code), boot_file="train.py", train_instance_type=FLAVOR,
                    framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/")
    return est.config.fit(inputs=str(data), job_name=name)


def test_each_promotion_step_attaches_to_its_job_once(counted, modelarts_emulator, online_code, online_data, tmp_path):
    session, calls = counted
    config = _config(session, online_code, online_data)
    ledger = Ledger(tmp_path / "ledger.json")
    first = submit(config, session, ledger=ledger, lock_hash=None)
    assert (calls["start"], calls["attach"]) == (1, 0)  # the job it started is the handle it returns
    assert first.job is not None and first.job.job_id == first.record.job_id
    calls.clear()
    hit = submit(config, session, ledger=ledger, lock_hash=None, wait=True)  # not final yet: followed to its end
    assert (hit.record.created, hit.record.phase, dict(calls)) == (False, "Completed", {"attach": 1})
    calls.clear()
    assert submit(config, session, ledger=ledger, lock_hash=None).job is None and not calls  # final: nothing asked
    # a submission whose create request never got its answer: found by name, then attached to once
    ledger.record(replace(first.record, job_id="", phase=SUBMITTING))
    recovered = submit(config, session, ledger=ledger, lock_hash=None)
    assert dict(calls) == {"find_job": 1, "attach": 1}
    assert (recovered.record.job_id, recovered.record.phase) == (first.record.job_id, "Completed")
    assert len(modelarts_emulator.jobs()) == 1


def test_one_set_of_clients_serves_every_job_of_a_session(counted, modelarts_emulator, online_code, online_data):
    session, _ = counted
    jobs = [Estimator(modelarts_session=session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                      framework_type="PyTorch",
                      train_instance_count=1, output_path="obs://emulator-bucket/out/").fit(inputs=str(online_data), job_name=f"c{i}")
            for i in range(2)]
    shared = Clients.of(session)
    assert all(job._execution._clients is shared for job in jobs)
    assert CountingOnline(session).attach(jobs[0].job_id, jobs[0].config)._clients is shared
    other = modelarts_emulator.session()
    assert Clients.of(other) is not shared
    assert modelarts_emulator.secret_key not in repr(shared) + repr(jobs[0]._execution)
    assert modelarts_emulator.project_id in repr(shared)
    for job in jobs:
        job.wait(120)


def test_a_promotion_reads_each_tree_once(modelarts_emulator, online_code, online_data, tmp_path, monkeypatch):
    """The code's and the inputs' digests make the ledger key and the upload prefixes: one reading each."""
    reads: list[str] = []
    read = CodeTree._read_digest

    def counting(tree: CodeTree) -> str:
        reads.append(tree.root.name)
        return read(tree)

    monkeypatch.setattr(CodeTree, "_read_digest", counting)
    session = modelarts_emulator.session()
    config = _config(session, online_code, online_data)
    rec = promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash=None)
    assert sorted(reads) == ["code", "data"]
    digest = CodeTree(online_code).digest()
    assert any(f"/code/{digest}/code/train.py" in key for key in modelarts_emulator.objects())  # the key's digest
    # another promotion reads the trees again: an edit in between is seen
    (online_code / "train.py").write_text("print('edited')\n")
    reads.clear()
    again = promote(config, session, ledger=Ledger(tmp_path / "ledger.json"), lock_hash=None)
    assert sorted(reads) == ["code", "data"] and again.key != rec.key and again.created


def test_a_lock_is_parsed_once_per_version_of_its_file(tmp_path):
    def lock_text(version: str) -> str:
        return f"""\
version: 1
metadata:
  platforms: [linux-64]
  custom_metadata:
    pytest-modelarts.python: local
    pytest-modelarts.python-spec: "3.11.*"
    pytest-modelarts.python-version: "3.11"
    pytest-modelarts.spec-hash: abc
package:
- {{manager: pip, name: six, version: "{version}", platform: linux-64, url: "https://example.invalid/six.whl"}}
"""

    path = tmp_path / "conda-lock.yml"
    path.write_text(lock_text("1.16.0"))
    first = read_lock(path)
    assert first is not None and read_lock(path) is first  # the parity check and the requirements share it
    # a new version of the same size and time, written as locks are (a new file renamed over the old one)
    st = path.stat()
    new = tmp_path / "new.yml"
    new.write_text(lock_text("1.16.1"))
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, path)
    second = read_lock(path)
    assert second is not first and [p.version for p in second.pip] == ["1.16.1"]


def test_one_adoption_window_from_the_time_of_the_create_request(modelarts_emulator, online_code, online_data):
    session = modelarts_emulator.session()
    job = Estimator(modelarts_session=session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                    framework_type="PyTorch",
                    train_instance_count=1, output_path="obs://emulator-bucket/out/").fit(inputs=str(online_data), job_name="adopt")
    backend = OnlineBackend(session)
    now = time.time()
    # a request sent up to the window after the job's creation may have created it; one sent later may not have
    assert backend.find_job("adopt", created_after=now + ADOPT_WINDOW_S - 60) == job.job_id
    assert backend.find_job("adopt", created_after=now + ADOPT_WINDOW_S + 60) is None
    assert backend.find_job("other-name", created_after=now) is None
    job.wait(120)


@pytest.mark.parametrize("version", list(Version))
def test_promotion_refuses_a_smoke_run_of_a_contract_it_cannot_submit(version, online_code, tmp_path, sdk_session):
    config = Estimator(modelarts_session=sdk_session, code_dir=str(online_code), boot_file="train.py", train_instance_type=FLAVOR,
                       framework_type="PyTorch",
                       train_instance_count=1, output_path="obs://b/out/").config.fit(inputs="obs://b/in/", job_name="v")
    found = SmokeRun(contract=version.value, labels=(), code_hash=None, env_hash=None, engine=PYTORCH).differences(
        config, code_hash=None, env_hash=None)
    assert bool(found) is not version.contract.submittable
    assert all(line.startswith("contract: ") for line in found)
