"""Why a process action was refused, each with its HTTP status and a stable code."""

from __future__ import annotations

from gpu_sentinel.errors import SentinelError


class ProcessActionError(SentinelError):
    """Base class; ``outcome`` is what the audit record says happened."""

    outcome = "refused"


class ProcessActionsDisabledError(ProcessActionError):
    status_code = 403
    code = "process_actions_disabled"

    def __init__(self) -> None:
        super().__init__(
            "Process actions are turned off on this service; set GPU_SENTINEL_PROCESS_ACTIONS=true "
            "(or --process-actions) to allow admins to terminate, pause and resume GPU processes"
        )


class NotAGPUProcessError(ProcessActionError):
    status_code = 404
    code = "not_a_gpu_process"


class ProtectedProcessError(ProcessActionError):
    """PID 1, the service itself or one of its ancestors: signalling them would take the host or the
    service down."""

    status_code = 403
    code = "protected_process"


class ProcessChangedError(ProcessActionError):
    """The PID no longer names the process the snapshot saw (it exited and the PID was reused), or its
    start time is unknown so that cannot be ruled out."""

    status_code = 409
    code = "process_changed"


class ProcessGoneError(ProcessActionError):
    status_code = 410
    code = "process_gone"
    outcome = "gone"


class SignalRefusedError(ProcessActionError):
    """The operating system said no (EPERM): another user's process and no privilege to signal it."""

    status_code = 403
    code = "signal_refused"
    outcome = "denied"
