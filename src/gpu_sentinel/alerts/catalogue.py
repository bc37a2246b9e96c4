"""Every metric and event a rule can watch: name, scope, unit, help and how to read it from a snapshot.
The rule validator, the API's catalogue endpoint and the notification text all use it.

Readings come from the metric registry (each entry with an ``alert`` name), so a reading is described
there once. Events that are not readings are declared here: ``event.xid`` is the code of an XID that
arrived since the previous snapshot, ``event.ecc_uncorrectable`` the increase of the uncorrectable ECC
counter (both computed by the engine across snapshots), ``event.sampler_stalled`` the age in seconds of
the newest snapshot (read by a watchdog, not from snapshots). State flags such as ``event.gpu_lost`` and
``event.gpu_unresponsive`` are registry readings marked as events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gpu_sentinel import metrics as registry
from gpu_sentinel.snapshot import GPUSample, HostSample

Scope = Literal["gpu", "host"]

GPUReader = Callable[[GPUSample], "float | None"]
HostReader = Callable[[HostSample], "float | None"]


@dataclass(frozen=True, slots=True)
class AlertMetric:
    name: str
    scope: Scope
    unit: str
    help: str
    gpu: GPUReader | None = None
    host: HostReader | None = None
    event: bool = False


def _from_registry(metric: registry.Metric) -> AlertMetric:
    alert = metric.alert
    assert alert is not None
    if metric.scope == "gpu":
        return AlertMetric(
            alert.name, "gpu", alert.unit, metric.help, gpu=metric.alert_value, event=alert.event
        )
    if metric.scope == "host":
        return AlertMetric(
            alert.name, "host", alert.unit, metric.help, host=metric.alert_value, event=alert.event
        )
    raise ValueError(f"{metric.key}: only GPU and host readings can be alerted on, not {metric.scope}")


_EVENTS: tuple[AlertMetric, ...] = (
    AlertMetric("event.xid", "gpu", "xid", "Code of an XID error reported since the last sample", event=True),
    AlertMetric(
        "event.ecc_uncorrectable",
        "gpu",
        "errors",
        "New uncorrectable ECC errors since the last sample",
        event=True,
    ),
    AlertMetric(
        "event.sampler_stalled",
        "host",
        "s",
        "Age of the newest snapshot, checked by a watchdog between samples",
        event=True,
    ),
)

METRICS: dict[str, AlertMetric] = {
    metric.name: metric
    for metric in (
        *(_from_registry(m) for m in registry.METRICS if m.alert is not None),
        *_EVENTS,
    )
}
STALL_METRIC = "event.sampler_stalled"
