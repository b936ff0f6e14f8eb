"""``JobPhase``: where a training job is, in the words of the ModelArts v2 API (and the old API's numbers)."""

from __future__ import annotations

import enum


class JobPhase(str, enum.Enum):
    """The phases of a ModelArts v2 training job."""

    CREATING = "Creating"
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    ABNORMAL = "Abnormal"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def v1_status(self) -> int:
        """The integer status of the old (v1) API, as the seed SDK's ``get_job_info`` reports it."""
        return _V1_STATUS[self]


_FINAL = frozenset({JobPhase.COMPLETED, JobPhase.FAILED, JobPhase.TERMINATED, JobPhase.ABNORMAL})
# v1: 1 INIT, 7 WAITING, 8 RUNNING, 10 COMPLETED, 11 FAILED, 12 KILLED, 13 CANCELED, 5 ERROR (abnormal)
_V1_STATUS = {
    JobPhase.CREATING: 1, JobPhase.PENDING: 7, JobPhase.RUNNING: 8, JobPhase.COMPLETED: 10,
    JobPhase.FAILED: 11, JobPhase.TERMINATING: 12, JobPhase.TERMINATED: 12, JobPhase.ABNORMAL: 5,
}
