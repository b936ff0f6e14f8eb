"""``JobPhase``: where a training job is, in the words of the ModelArts v2 API (and the old API's numbers).

The v2 phases and secondary phases are those of ``status.phase`` / ``status.secondary_phase`` in
"Creating a Training Job" (``POST /v2/{project_id}/training-jobs``), opentelekomcloud-docs/modelarts
``api-ref/source/training_management/creating_a_training_job.rst``; the SDK's ``Status`` model
(``huaweicloudsdkmodelarts.v1.model.status``) carries the same lists.

The old (v1) API reported an integer ``status`` instead. Its table, :data:`V1_STATUSES`, is
opentelekomcloud-docs/modelarts ``api-ref/source/historical_apis/training_management_old_version/job_statuses.rst``
(``modelarts_03_0074.html``); 22 ``MOUNT_FAILED`` is only in the SDK reference's copy,
``doc/sdk-ref/source/training_management/job_statuses.rst`` (``modelarts_04_0077.html``). How the v2 phases map
onto it is our decision (no document maps one onto the other); see :data:`_V1_STATUS` and docs/online.md.
"""

from __future__ import annotations

import enum


class JobPhase(str, enum.Enum):
    """The phases of a ModelArts v2 training job; a phase prints as the API spells it (``Running``)."""

    def __str__(self) -> str:
        return str(self.value)

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
        """The integer ``status`` of the old (v1) API for this phase (see :data:`V1_STATUSES`), as ``get_job_info`` reports it."""
        return _V1_STATUS[self]

    @property
    def v1_status_name(self) -> str:
        """The documented name of :attr:`v1_status`, e.g. ``JOBSTAT_COMPLETED``."""
        return V1_STATUSES[self.v1_status][0]


#: The v2 secondary phases as documented (``status.secondary_phase``; "may be added, modified, or deleted").
SECONDARY_PHASES = frozenset({"Creating", "Queuing", "Running", "Failed", "Completed", "Terminating", "Terminated",
                              "CreateFailed", "TerminatedFailed", "Unknown", "Lost"})

#: The old (v1) API's job statuses: number -> (name, the documented description), verbatim.
V1_STATUSES: dict[int, tuple[str, str]] = {
    0: ("JOBSTAT_UNKNOWN", "Unknown status."),
    1: ("JOBSTAT_INIT", "The job is being initialized."),
    2: ("JOBSTAT_IMAGE_CREATING", "The job image is being created."),
    3: ("JOBSTAT_IMAGE_FAILED", "Failed to create the job image."),
    4: ("JOBSTAT_SUBMIT_TRYING", "The job is being submitted."),
    5: ("JOBSTAT_SUBMIT_FAILED", "Failed to submit the job."),
    6: ("JOBSTAT_DELETE_FAILED", "Failed to delete the job."),
    7: ("JOBSTAT_WAITING", "The job is queuing."),
    8: ("JOBSTAT_RUNNING", "The job is running."),
    9: ("JOBSTAT_KILLING", "The job is being canceled."),
    10: ("JOBSTAT_COMPLETED", "The job has been completed."),
    11: ("JOBSTAT_FAILED", "Failed to run the job."),
    12: ("JOBSTAT_KILLED", "Job canceled successfully."),
    13: ("JOBSTAT_CANCELED", "Job canceled."),
    14: ("JOBSTAT_LOST", "Job lost."),
    15: ("JOBSTAT_SCALING", "The job is being scaled."),
    16: ("JOBSTAT_SUBMIT_MODEL_FAILED", "Failed to submit the model."),
    17: ("JOBSTAT_DEPLOY_SERVICE_FAILED", "Failed to deploy the service."),
    18: ("JOBSTAT_CHECK_INIT", "The job review is being initialized."),
    19: ("JOBSTAT_CHECK_RUNNING", "The job is being reviewed."),
    20: ("JOBSTAT_CHECK_RUNNING_COMPLETED", "The approval job is completed."),
    21: ("JOBSTAT_CHECK_FAILED", "Failed to review the job."),
    22: ("MOUNT_FAILED", "Failed to mount."),  # SDK reference only
}

_FINAL = frozenset({JobPhase.COMPLETED, JobPhase.FAILED, JobPhase.TERMINATED, JobPhase.ABNORMAL})

# v2 phase -> v1 status, by the documented meanings:
# * Creating ("The gateway is being created") -> 1 INIT ("being initialized"): the first state of every job. Not
#   4 SUBMIT_TRYING: a v2 job is already submitted when it is Creating (the create call returned its id).
# * Pending (secondary Queuing, "queuing") -> 7 WAITING ("The job is queuing"): the same word.
# * Terminating ("being stopped") -> 9 KILLING ("being canceled"); Terminated ("stopped") -> 12 KILLED
#   ("Job canceled successfully"), the end of KILLING. 13 CANCELED is not used: the docs do not say how it
#   differs from 12.
# * Abnormal -> 14 LOST: the v2 docs gloss the secondary phase Lost as "abnormal" (SDK: "Lost：异常", the same
#   word as "Abnormal：异常"). Not 5 SUBMIT_FAILED: only one of Abnormal's secondary phases (CreateFailed) is a
#   failed submission, and a phase alone cannot tell which.
_V1_STATUS = {
    JobPhase.CREATING: 1, JobPhase.PENDING: 7, JobPhase.RUNNING: 8, JobPhase.COMPLETED: 10,
    JobPhase.FAILED: 11, JobPhase.TERMINATING: 9, JobPhase.TERMINATED: 12, JobPhase.ABNORMAL: 14,
}
