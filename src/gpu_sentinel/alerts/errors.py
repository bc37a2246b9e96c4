"""Errors the alerts API reports, each with its HTTP status and error code."""

from __future__ import annotations

from gpu_sentinel.errors import SentinelError


class AlertObjectNotFoundError(SentinelError):
    """A rule, channel, silence or alert that does not exist."""

    status_code = 404
    code = "not_found"

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"No alert {kind} named {name!r}")


class AlertConflictError(SentinelError):
    """Creating something whose identifier is taken."""

    status_code = 409
    code = "conflict"


class AlertConfigError(SentinelError):
    """A rule or channel that is valid alone but not with the rest (an unknown channel, a bad GPU)."""

    status_code = 422
    code = "validation_error"


class AlertsUnavailableError(SentinelError):
    """The alerts database cannot be reached, or alerting is disabled."""

    status_code = 503
    code = "alerts_unavailable"


class ChannelFailedError(SentinelError):
    """A channel test whose receiver refused or did not answer."""

    status_code = 502
    code = "channel_failed"
