"""The registry's stored metrics as history sees them: one column per metric in every tier's table.

Derived from ``gpu_sentinel.metrics``; names are the trends API's (spec 003's ``MetricDataPoint`` where it
fixes one). Columns hold the sampler's own units (bytes, watts); ``scale`` converts a stored value into
the metric's unit on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gpu_sentinel import metrics as registry
from gpu_sentinel.metrics.model import Reader

Scope = Literal["gpu", "host"]
BYTES_PER_GB = 1024**3


@dataclass(frozen=True, slots=True)
class Metric:
    """One stored series: ``column`` names its column in every tier's table."""

    name: str
    scope: Scope
    column: str
    unit: str
    help: str
    read: Reader
    integer: bool = False
    last: bool = False
    scale: float = 1.0
    chart: bool = False


def _stored(scope: Scope) -> tuple[Metric, ...]:
    return tuple(
        Metric(
            name=m.history.name,
            scope=scope,
            column=m.history.column,
            unit=m.history.unit,
            help=m.help,
            read=m.read,
            integer=m.history.sql_type == "BIGINT",
            last=m.history.rollup == "last",
            scale=m.history.scale,
            chart=m.history.chart,
        )
        for m in registry.METRICS
        if m.history is not None and m.scope == scope
    )


GPU_METRICS = _stored("gpu")
HOST_METRICS = _stored("host")
METRICS: dict[str, Metric] = {metric.name: metric for metric in GPU_METRICS + HOST_METRICS}
CHART_METRICS: tuple[str, ...] = tuple(metric.name for metric in GPU_METRICS + HOST_METRICS if metric.chart)
GPU_COLUMNS: tuple[str, ...] = tuple(metric.column for metric in GPU_METRICS)
HOST_COLUMNS: tuple[str, ...] = tuple(metric.column for metric in HOST_METRICS)
