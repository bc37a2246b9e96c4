"""How the API shows an active alert, and how it reads an alert's identifier back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gpu_sentinel.alerts import catalogue
from gpu_sentinel.alerts.engine import HOST_KEY, Instance
from gpu_sentinel.alerts.events import alert_id, iso
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.alerts.silences import CompiledSilence


def alert_view(
    rule: RuleSpec, instance: Instance, silences: Sequence[CompiledSilence], now: float
) -> dict[str, Any]:
    metric = catalogue.METRICS[rule.metric]
    return {
        "id": alert_id(rule.id, instance.key),
        "rule_id": rule.id,
        "rule_name": rule.name,
        "metric": rule.metric,
        "unit": metric.unit,
        "severity": rule.severity,
        "instance": "host" if instance.key < 0 else f"gpu{instance.key}",
        "gpu_id": None if instance.key < 0 else instance.key,
        "state": instance.state,
        "value": instance.value,
        "threshold": rule.threshold,
        "condition": rule.condition,
        "active_since": iso(instance.active_since),
        "fired_at": iso(instance.fired_at),
        "notified": instance.notified,
        "acknowledged": instance.acked_at is not None,
        "acknowledged_by": instance.acked_by,
        "acknowledged_at": iso(instance.acked_at),
        "silenced": any(s.mutes(rule, instance.key, now) for s in silences),
    }


def parse_alert_id(text: str) -> tuple[str, int] | None:
    """``<rule_id>:gpu<N>`` or ``<rule_id>:host`` as (rule id, instance key); None when malformed."""
    rule_id, _, instance = text.rpartition(":")
    if not rule_id:
        return None
    if instance == "host":
        return rule_id, HOST_KEY
    if instance.startswith("gpu") and instance[3:].isdigit():
        return rule_id, int(instance[3:])
    return None
