"""Errors the alerts API reports, each with its HTTP status and error code."""

from __future__ import annotations

from pydantic import ValidationError

from gpu_sentinel.errors import SentinelError


class AlertObjectNotFoundError(SentinelError):
    """A rule, channel, silence or alert that does not exist."""

    status_code = 404
    code = "not_found"

    def __init__(self, kind: str, name: str) -> None:
        what = "active alert" if kind == "alert" else f"alert {kind}"
        super().__init__(f"No {what} named {name!r}")


class AlertConflictError(SentinelError):
    """Creating something whose identifier is taken."""

    status_code = 409
    code = "conflict"


class AlertConfigError(SentinelError):
    """A rule or channel that is valid alone but not with the rest (an unknown channel, a bad GPU)."""

    status_code = 422
    code = "validation_error"

    @classmethod
    def from_validation(cls, error: ValidationError) -> AlertConfigError:
        """Pydantic's messages, without their prefix, as one line."""
        return cls("; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors()))


class AlertsUnavailableError(SentinelError):
    """The alerts database cannot be reached, or alerting is disabled."""

    status_code = 503
    code = "alerts_unavailable"


class ChannelFailedError(SentinelError):
    """A channel test whose receiver refused or did not answer."""

    status_code = 502
    code = "channel_failed"
