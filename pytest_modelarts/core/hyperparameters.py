"""``Hyperparameters``: a job's run parameters, one type from the SDK boundary inward.

The SDK's Estimator (and ``with_overrides``) takes the SDK's ``[{"label": "epochs", "value": "3"}]`` or a dict
``{"epochs": 3}``, the marker and job files a dict or table ``{epochs = 3}``; each converts once, at its
boundary, into this ordered, immutable sequence of ``(label, value)`` pairs, which every backend reads
(``--label=value`` for a boot file, variables for a custom image, ``parameters`` online). A dict's values may
be numbers or bools (:func:`text_of`: ``3`` becomes ``"3"``, ``True`` ``"true"``); the SDK's list form takes
str values only, as the SDK's table says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ParameterError
from . import contract

#: the kernel's limit for one argument string (MAX_ARG_STRLEN, 32 pages): a longer one fails execve with E2BIG
MAX_ARG_BYTES = 131072 - 1
#: what all hyperparameters together may take of a worker's command line: ARG_MAX (2 MiB with the usual 8 MiB stack)
#: less room for the rest of the command and the job's environment
MAX_ARGV_BYTES = 2 * 1024 * 1024 - 256 * 1024


class Hyperparameters(tuple[tuple[str, str], ...]):
    """Ordered ``(label, value)`` pairs of str; labels are unique."""

    def __new__(cls, pairs: Iterable[tuple[str, str]] = ()) -> Hyperparameters:
        return super().__new__(cls, tuple((label, value) for label, value in pairs))

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


def text_of(raw: object) -> str | None:
    """A dict form's value as the str a command line carries: a str as is, a bool as ``true``/``false``, a
    number as written; None for anything else."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (str, int, float)):
        return str(raw)
    return None


def check_hyperparameters(value: Any, *, owner: str = "Estimator") -> Hyperparameters:
    """The SDK's ``[{"label": str, "value": str}]``, a dict ``{"epochs": 3}``, or pairs already converted at
    another boundary, checked."""
    if value is None:
        return Hyperparameters()
    if isinstance(value, Hyperparameters) or (isinstance(value, tuple) and all(isinstance(i, tuple) for i in value)):
        items: list[Any] = [{"label": label, "value": val} for label, val in value]
    elif isinstance(value, Mapping):
        items = [{"label": label, "value": val if text_of(val) is None else text_of(val)} for label, val in value.items()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ParameterError(owner, "hyperparameters", value, 'must be a dict {"epochs": 3} or a list of {"label": str, "value": str}')
    seen: set[str] = set()
    pairs = []
    for item in items:
        if not isinstance(item, Mapping) or set(item) != {"label", "value"}:
            raise ParameterError(owner, "hyperparameters", item, 'every item must be a dict with exactly the keys "label" and "value"')
        label, val = item["label"], item["value"]
        if not isinstance(label, str) or not contract.valid_hyperparameter_label(label):
            raise ParameterError(owner, "hyperparameters", item, "label must be a str of letters, digits, '_', '.', '-' "
                                 "starting with a letter or '_' (it becomes --label=value)")
        if isinstance(val, str) and "\0" in val:
            raise ParameterError(owner, "hyperparameters", item, "value contains a NUL byte, which no command-line argument can carry")
        if isinstance(val, str) and len(f"--{label}={val}".encode()) > MAX_ARG_BYTES:
            raise ParameterError(owner, "hyperparameters", item, f"--{label}=value is over {MAX_ARG_BYTES} bytes, the kernel's limit "
                                 "for one argument: pass a file (in the code directory or inputs) and its path instead")
        if not isinstance(val, str):
            raise ParameterError(owner, "hyperparameters", item, f"value must be a str (got {type(val).__name__}); write {str(val)!r}")
        if label in seen:
            raise ParameterError(owner, "hyperparameters", item, f"label {label!r} is given twice")
        if label in ("data_url", "train_url"):
            raise ParameterError(owner, "hyperparameters", item, f"label {label!r} is set by the platform from inputs/output_path")
        seen.add(label)
        pairs.append((label, val))
    total = sum(len(f"--{label}={val}".encode()) + 1 for label, val in pairs)
    if total > MAX_ARGV_BYTES:
        raise ParameterError(owner, "hyperparameters", f"{len(pairs)} hyperparameters of {total} bytes",
                             f"together over {MAX_ARGV_BYTES} bytes, the kernel's limit of a command line and its "
                             "environment (ARG_MAX): pass large values in a file of the code directory or the inputs")
    return Hyperparameters(pairs)
