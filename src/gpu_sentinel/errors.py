"""The service's exceptions. Each carries its HTTP status and a stable error code, so one handler in the
API turns any of them into ``{"detail", "error", "timestamp"}`` (spec 003's ``detail``, spec 000's
``error`` and ``timestamp``)."""

from __future__ import annotations

from collections.abc import Iterable


class SentinelError(Exception):
    """Base class: an error a client can be told about."""

    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class GPUUnavailableError(SentinelError):
    """No GPU can be read: no driver, monitoring disabled, or no device."""

    status_code = 503
    code = "gpu_unavailable"

    def __init__(self, reason: str | None = None) -> None:
        detail = "GPU monitoring not available on this system"
        super().__init__(f"{detail} ({reason})" if reason else detail)


class UnknownGPUError(SentinelError):
    """A ``gpu_id`` that names no GPU on this host."""

    status_code = 400
    code = "invalid_gpu_id"

    def __init__(self, gpu_id: int, valid_ids: Iterable[int]) -> None:
        ids = ", ".join(str(i) for i in valid_ids) or "none"
        super().__init__(f"Invalid GPU ID {gpu_id}: valid GPU IDs are {ids}")


class NotReadyError(SentinelError):
    """The sampler has not produced its first snapshot yet."""

    status_code = 503
    code = "not_ready"

    def __init__(self) -> None:
        super().__init__("The sampler has not produced its first sample yet; retry in a moment")


class InvalidRequestError(SentinelError):
    """Parameters that are well-formed but make no sense together."""

    status_code = 400
    code = "invalid_request"
