"""What a history request can get wrong, each with its HTTP status and error code."""

from __future__ import annotations

from collections.abc import Iterable

from gpu_sentinel.errors import InvalidRequestError, SentinelError


class UnknownMetricError(InvalidRequestError):
    code = "unknown_metric"

    def __init__(self, name: str, valid: Iterable[str]) -> None:
        super().__init__(f"Unknown metric {name!r}: valid metrics are {', '.join(valid)}")


class InvalidTimeRangeError(SentinelError):
    status_code = 422
    code = "invalid_time_range"


class TooManyPointsError(SentinelError):
    status_code = 422
    code = "too_many_points"

    def __init__(self, points: int, limit: int, minimum_bucket_s: int) -> None:
        super().__init__(
            f"The query would return {points} points per series; the limit is {limit}. "
            f"Use a bucket of at least {minimum_bucket_s} s or a shorter range."
        )


class HistoryUnavailableError(SentinelError):
    status_code = 503
    code = "history_unavailable"


class UnknownNodeError(InvalidRequestError):
    code = "unknown_node"

    def __init__(self, node: str, known: Iterable[str], *, ambiguous: bool = False) -> None:
        names = ", ".join(known) or "none"
        problem = "names several nodes; give its id" if ambiguous else "is no node with history"
        super().__init__(f"Node {node!r} {problem}: known nodes are {names}")
