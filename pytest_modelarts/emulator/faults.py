"""Fault injection: make the emulator misbehave the way a cloud API sometimes does.

``FaultInjector.inject(rate=0.3, kinds=("500", "429"))`` makes about 30% of the requests fail. Kinds:

``"500"``, ``"502"``, ``"503"``, ``"504"``, ``"429"``
    answer with that status and the service's error body, without doing anything
``"slow"``
    do the work, then wait ``delay`` seconds before answering (a client with a shorter timeout gives up
    without knowing that its request took effect)
``"drop"``
    close the connection without answering, without doing anything
``"drop_after"``
    do the work (e.g. create the job), then close the connection without answering: the client cannot
    tell whether its request took effect, the case that must not lead to a duplicate
``"500_after"``
    do the work, then answer 500
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("500", "502", "503", "504", "429", "slow", "drop", "drop_after", "500_after")
SERVICES = ("modelarts", "obs")


@dataclass
class Fault:
    kind: str
    delay: float = 0.0

    @property
    def status(self) -> int | None:
        head = self.kind.split("_")[0]
        return int(head) if head.isdigit() else None

    @property
    def after(self) -> bool:
        """True when the work is done before the fault shows."""
        return self.kind.endswith("_after") or self.kind == "slow"


@dataclass
class _Rule:
    rate: float
    kinds: tuple[str, ...]
    services: tuple[str, ...]
    methods: tuple[str, ...] | None
    path_contains: str | None
    remaining: int | None
    delay: float


@dataclass
class FaultInjector:
    """Decides, request by request, whether to inject a fault. Thread-safe; seedable for reproducibility."""

    seed: int | None = None
    injected: list[tuple[str, str, str, str]] = field(default_factory=list)  # (service, method, path, kind)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def inject(
        self,
        rate: float = 1.0,
        kinds: str | tuple[str, ...] | list[str] = ("500",),
        *,
        services: str | tuple[str, ...] = SERVICES,
        methods: str | tuple[str, ...] | None = None,
        path_contains: str | None = None,
        count: int | None = None,
        delay: float = 2.0,
    ) -> None:
        """Add a rule: each matching request fails with probability ``rate`` (at most ``count`` times)."""
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        services = (services,) if isinstance(services, str) else tuple(services)
        methods = (methods,) if isinstance(methods, str) else tuple(methods) if methods else None
        bad = [k for k in kinds if k not in KINDS] + [s for s in services if s not in SERVICES]
        if bad or not 0.0 <= rate <= 1.0:
            raise ValueError(f"bad fault rule {bad or rate!r}: kinds are {', '.join(KINDS)}; services {', '.join(SERVICES)}; 0 <= rate <= 1")
        with self._lock:
            self._rules.append(_Rule(rate, kinds, services, tuple(m.upper() for m in methods) if methods else None,
                                     path_contains, count, delay))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def draw(self, service: str, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if service not in rule.services or (rule.methods and method.upper() not in rule.methods):
                    continue
                if rule.path_contains and rule.path_contains not in path:
                    continue
                if rule.remaining is not None and rule.remaining <= 0:
                    continue
                if self._rng.random() >= rule.rate:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                kind = self._rng.choice(rule.kinds)
                self.injected.append((service, method, path, kind))
                return Fault(kind, rule.delay)
        return None
