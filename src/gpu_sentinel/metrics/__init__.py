"""The metric registry: every reading declared once, with how it is stored, alerted on, exported and
shown. History columns, the alert catalogue, Prometheus families, API field documentation and the
``/api/v1/metrics`` catalogue are all derived from ``METRICS``; add a reading here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gpu_sentinel.metrics.gpu import GPU_METRICS
from gpu_sentinel.metrics.host import CORE_METRICS, FILESYSTEM_METRICS, HOST_METRICS, PROCESS_METRICS
from gpu_sentinel.metrics.mig import MIG_METRICS
from gpu_sentinel.metrics.model import (
    Alert,
    Api,
    Format,
    History,
    Metric,
    Prometheus,
    PrometheusType,
    Scope,
    Thresholds,
)
from gpu_sentinel.metrics.profiling import PROCESS_UTILIZATION_METRICS, PROFILING_METRICS

METRICS: tuple[Metric, ...] = (
    GPU_METRICS
    + PROFILING_METRICS
    + MIG_METRICS
    + HOST_METRICS
    + CORE_METRICS
    + FILESYSTEM_METRICS
    + PROCESS_METRICS
    + PROCESS_UTILIZATION_METRICS
)
BY_KEY: dict[str, Metric] = {metric.key: metric for metric in METRICS}


def metric(key: str) -> Metric:
    return BY_KEY[key]


def api_field(key: str, **kwargs: Any) -> Any:
    """A pydantic ``Field`` documented from the registry, so the API never restates a metric's help."""
    return Field(description=BY_KEY[key].describe(), **kwargs)


__all__ = [
    "BY_KEY",
    "METRICS",
    "Alert",
    "Api",
    "Format",
    "History",
    "Metric",
    "Prometheus",
    "PrometheusType",
    "Scope",
    "Thresholds",
    "api_field",
    "metric",
]
