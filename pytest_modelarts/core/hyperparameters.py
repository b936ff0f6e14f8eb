"""``Hyperparameters``: a job's run parameters, one type from the SDK boundary inward.

The SDK's Estimator takes ``[{"label": "epochs", "value": "3"}]``, the marker and job files a table
``{epochs = 3}``; each converts once, at its boundary, into this ordered, immutable sequence of
``(label, value)`` pairs, which every backend reads (``--label=value`` for a boot file, variables for a
custom image, ``parameters`` online).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Hyperparameters(tuple[tuple[str, str], ...]):
    """Ordered ``(label, value)`` pairs of str; labels are unique."""

    def __new__(cls, pairs: Iterable[tuple[str, str]] = ()) -> Hyperparameters:
        return super().__new__(cls, tuple((label, value) for label, value in pairs))

    @classmethod
    def from_mapping(cls, table: Mapping[str, str]) -> Hyperparameters:
        return cls(table.items())

    def updated(self, other: Iterable[tuple[str, str]]) -> Hyperparameters:
        """These pairs with ``other``'s values taking precedence (new labels at the end)."""
        merged = dict(self)
        merged.update(dict(other))
        return Hyperparameters(merged.items())

    def labels(self) -> list[str]:
        return [label for label, _ in self]

    def as_sdk(self) -> list[dict[str, str]]:
        """The SDK's form: ``[{"label": ..., "value": ...}]``."""
        return [{"label": label, "value": value} for label, value in self]

    def __repr__(self) -> str:
        return f"Hyperparameters({dict(self)!r})"
