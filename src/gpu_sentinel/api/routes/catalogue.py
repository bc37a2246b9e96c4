"""``GET /api/v1/metrics``: the metric registry as data, so the dashboard and any client take names,
units, labels and formats from the service instead of restating them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gpu_sentinel import metrics as registry
from gpu_sentinel.alerts.defaults import effective_thresholds
from gpu_sentinel.api.deps import ServiceDep
from gpu_sentinel.metrics.model import Format, PrometheusType, Scope, Thresholds

router = APIRouter(prefix="/api/v1", tags=["metrics"])


class ThresholdsOut(BaseModel):
    """Where a level turns yellow and red on the dashboard; its built-in alert rule (if any) fires at
    ``critical`` and clears below ``warning``."""

    warning: float = Field(description="From here on the value is shown as a warning (API unit).")
    critical: float = Field(description="From here on the value is shown as critical (API unit).")


class MetricEntry(BaseModel):
    key: str = Field(description="Registry key, e.g. `gpu.temperature_c`.")
    scope: Scope = Field(description="What the reading belongs to: a GPU, the host, a process, ...")
    unit: str = Field(
        description="Unit of the base value (`B`, `W`, `%`, `°C`, `B/s`, `s`; empty for counts)."
    )
    help: str
    label: str = Field(description="Short label for the dashboard.")
    format: Format = Field(description="How to render the base value.")
    api_field: str | None = Field(description="Dotted path in the live responses, e.g. `memory.used_gb`.")
    api_unit: str | None = Field(description="Unit of the value at `api_field`.")
    history_name: str | None = Field(
        description="Metric name for `/api/v1/history/trends`; null if not kept."
    )
    history_unit: str | None
    alert_name: str | None = Field(
        description="Metric name for alert rules; null if it cannot be alerted on."
    )
    alert_unit: str | None
    prometheus_name: str | None = Field(description="Family on `/metrics` (dcgm-exporter's name for GPUs).")
    prometheus_type: PrometheusType | None
    prometheus_unit: str | None
    thresholds: ThresholdsOut | None = Field(
        description="Warning and critical levels, in the unit of `api_field`, as the built-in alert rules "
        "currently use them; null for readings without levels."
    )


class MetricCatalogue(BaseModel):
    metrics: list[MetricEntry]


def _entry(metric: registry.Metric, thresholds: Thresholds | None) -> MetricEntry:
    api, history, alert, prometheus = metric.api, metric.history, metric.alert, metric.prometheus
    return MetricEntry(
        key=metric.key,
        scope=metric.scope,
        unit=metric.unit,
        help=metric.help,
        label=metric.label,
        format=metric.format,
        api_field=api.field if api else None,
        api_unit=api.unit if api else None,
        history_name=history.name if history else None,
        history_unit=history.unit if history else None,
        alert_name=alert.name if alert else None,
        alert_unit=alert.unit if alert else None,
        prometheus_name=prometheus.name if prometheus else None,
        prometheus_type=prometheus.type if prometheus else None,
        prometheus_unit=prometheus.unit if prometheus else None,
        thresholds=ThresholdsOut(warning=thresholds.warning, critical=thresholds.critical)
        if thresholds
        else None,
    )


@router.get("/metrics", response_model=MetricCatalogue)
def metric_catalogue(service: ServiceDep) -> MetricCatalogue:
    """Every reading the service knows, with where it appears: live API field, history metric, alert
    metric and Prometheus family, each with its unit, and the levels alerts and the dashboard share."""
    rules = service.alerts.config.rules() if service.alerts is not None else []
    thresholds = effective_thresholds(rules)
    entries = [_entry(metric, thresholds.get(metric.key)) for metric in registry.METRICS]
    return MetricCatalogue(metrics=entries)
