"""The ``modelarts_emulator`` pytest fixture: a ModelArts/OBS emulator on 127.0.0.1 for one test.

The pytest-modelarts plugin provides it (importing this module only when a test asks for it); without the
plugin, enable it with ``pytest_plugins = ["pytest_modelarts.emulator.fixtures"]`` in a ``conftest.py``::

    def test_online(modelarts_emulator):
        session = modelarts_emulator.session()
        job = Estimator(modelarts_session=session, train_instance_type="modelarts.vm.cpu.2u",
                        output_path=f"obs://{modelarts_emulator.bucket}/out/", ...).fit(inputs=..., wait=True)
        assert modelarts_emulator.jobs()[0]["status"]["phase"] == "Completed"
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..core.session import Session
from .server import Emulator

DEFAULT_BUCKET = "emulator-bucket"


class EmulatorHandle:
    """What the fixture yields: the emulator's endpoints and keys, and helpers for tests."""

    def __init__(self, emulator: Emulator, local_root: Path) -> None:
        self.emulator = emulator
        self._local_root = local_root
        self.endpoint = emulator.endpoint
        self.obs_endpoint = emulator.obs_endpoint
        self.access_key = emulator.access_key
        self.project_id = emulator.project_id
        self.bucket = emulator.buckets[0]
        self.obs_root = emulator.obs_root

    def __repr__(self) -> str:
        return f"<modelarts_emulator endpoint={self.endpoint!r} obs_endpoint={self.obs_endpoint!r}>"

    @property
    def secret_key(self) -> str:
        return self.emulator.secret_key

    def session(self, **overrides: Any) -> Session:
        """A Session that talks to this emulator (keyword arguments override, e.g. ``secret_key="wrong"``)."""
        defaults: dict[str, Any] = dict(access_key=self.access_key, secret_key=self.secret_key, project_id=self.project_id,
                                        endpoint=self.endpoint, obs_endpoint=self.obs_endpoint, local_root=self._local_root, stream_logs=False)
        return Session(**(defaults | overrides))

    def env(self) -> dict[str, str]:
        """Environment variables that point the SDK (and ``Session()``) at this emulator."""
        return self.emulator.env()

    def inject(self, rate: float = 1.0, kinds: str | tuple[str, ...] = ("500",), **options: Any) -> None:
        """Make requests fail; see :class:`~pytest_modelarts.emulator.faults.FaultInjector`."""
        self.emulator.faults.inject(rate, kinds, **options)

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    @property
    def injected(self) -> list[tuple[str, str, str, str]]:
        """The faults injected so far: (service, method, path, kind)."""
        return list(self.emulator.faults.injected)

    @property
    def create_requests(self) -> int:
        """How many create-job requests reached the service (including refused ones)."""
        return self.emulator.training.create_requests

    def jobs(self) -> list[dict[str, Any]]:
        """Every job's v2 document, oldest first."""
        return self.emulator.jobs()

    def wait_idle(self, timeout: float = 60) -> None:
        self.emulator.wait_idle(timeout)

    def objects(self, prefix: str = "", bucket: str | None = None) -> list[str]:
        """Keys in a bucket (default: the fixture's bucket)."""
        return self.emulator.store.keys(bucket or self.bucket, prefix)


def running_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """Start an emulator for one test and stop it afterwards (the body of the ``modelarts_emulator`` fixture)."""
    root = tmp_path_factory.mktemp("modelarts-emulator")
    with Emulator("EMU" + secrets.token_hex(8).upper(), secrets.token_urlsafe(24), "emu" + secrets.token_hex(8),
                  root=root / "state", buckets=(DEFAULT_BUCKET,), phase_delay=0.05) as emulator:
        yield EmulatorHandle(emulator, root / "local")


@pytest.fixture
def modelarts_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """A ModelArts v2 + OBS emulator on 127.0.0.1 (random ports, fresh keys, bucket ``emulator-bucket``)."""
    yield from running_emulator(tmp_path_factory)
