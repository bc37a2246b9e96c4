"""The rules every installation starts with. They are seeded once into the database; from then on they
are ordinary rules a user can edit, disable or delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gpu_sentinel import metrics as registry
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.metrics import Thresholds

STALL_AFTER_INTERVALS = 5
STALL_AFTER_MIN_S = 5.0


def stall_threshold_s(poll_interval_s: float) -> float:
    """The same bound the health endpoint calls stale."""
    return max(STALL_AFTER_MIN_S, STALL_AFTER_INTERVALS * poll_interval_s)


LEVEL_RULES: Mapping[str, str] = {
    "gpu-temperature-critical": "gpu.temperature_c",
    "gpu-memory-full": "gpu.memory_used_pct",
}
"""Built-in rules on a level, by rule id, and the registry metric whose thresholds they use: they fire at
its critical threshold and clear below its warning one, so alerts and the dashboard's colours agree."""


def _thresholds(key: str) -> Thresholds:
    thresholds = registry.metric(key).thresholds
    assert thresholds is not None, key
    return thresholds


def _level_rule(rule_id: str, name: str, description: str, for_s: float) -> RuleSpec:
    key = LEVEL_RULES[rule_id]
    metric = registry.metric(key)
    thresholds = _thresholds(key)
    assert metric.alert is not None, key
    return RuleSpec(
        id=rule_id,
        name=name,
        description=description.format(critical=f"{thresholds.critical:g} {metric.alert.unit}"),
        metric=metric.alert.name,
        condition=">=",
        threshold=thresholds.critical,
        clear_threshold=thresholds.warning,
        for_s=for_s,
        severity="critical",
        builtin=True,
    )


def effective_thresholds(rules: Iterable[RuleSpec]) -> dict[str, Thresholds]:
    """Each registry metric's thresholds, with those an admin set on its built-in level rule instead of
    the registry's where that rule still watches the same metric from below (``>`` or ``>=``): what
    the dashboard colours by is then what alerts fire on."""
    published = {metric.key: metric.thresholds for metric in registry.METRICS if metric.thresholds}
    for rule in rules:
        key = LEVEL_RULES.get(rule.id)
        if key is None:
            continue
        alert = registry.metric(key).alert
        if alert is None or rule.metric != alert.name or rule.condition not in (">", ">="):
            continue
        warning = rule.clear_threshold
        if warning is None:
            warning = min(_thresholds(key).warning, rule.threshold)
        published[key] = Thresholds(warning=warning, critical=rule.threshold)
    return published


def default_rules(poll_interval_s: float) -> list[RuleSpec]:
    return [
        _level_rule(
            "gpu-temperature-critical",
            "GPU temperature critical",
            "A GPU at or above {critical} for a minute throttles and ages faster.",
            for_s=60,
        ),
        _level_rule(
            "gpu-memory-full",
            "GPU memory nearly full",
            "At {critical} for five minutes the next allocation will fail with out-of-memory.",
            for_s=300,
        ),
        RuleSpec(
            id="gpu-xid",
            name="XID error",
            description="The driver reported an XID critical error.",
            metric="event.xid",
            condition=">",
            threshold=0,
            keep_firing_for_s=300,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="gpu-ecc-uncorrectable",
            name="Uncorrectable ECC error",
            description="Memory returned corrupted data; jobs on this GPU may have wrong results.",
            metric="event.ecc_uncorrectable",
            condition=">",
            threshold=0,
            keep_firing_for_s=300,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="gpu-lost",
            name="GPU lost",
            description="The GPU fell off the bus and no longer answers.",
            metric="event.gpu_lost",
            condition=">=",
            threshold=1,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="gpu-unresponsive",
            name="GPU unresponsive",
            description="The GPU's driver calls miss their deadline: its readings are missing until it "
            "answers again. Often the first sign of a GPU in trouble.",
            metric="event.gpu_unresponsive",
            condition=">=",
            threshold=1,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="sampler-stalled",
            name="Sampler stalled",
            description="No fresh snapshot: metrics, history and every other alert are blind.",
            metric="event.sampler_stalled",
            condition=">=",
            threshold=stall_threshold_s(poll_interval_s),
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="gpu-allocated-idle",
            name="GPU allocated but idle",
            description="Processes hold more than 1 GiB on a GPU that has done no work for 15 minutes.",
            metric="gpu.idle_allocated_gib",
            condition=">",
            threshold=1,
            for_s=900,
            severity="info",
            builtin=True,
        ),
    ]
