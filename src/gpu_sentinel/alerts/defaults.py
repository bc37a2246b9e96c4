"""The rules every installation starts with. They are seeded once into the database; from then on they
are ordinary rules a user can edit, disable or delete."""

from __future__ import annotations

from gpu_sentinel.alerts.rules import RuleSpec

STALL_AFTER_INTERVALS = 5
STALL_AFTER_MIN_S = 5.0


def stall_threshold_s(poll_interval_s: float) -> float:
    """The same bound the health endpoint calls stale."""
    return max(STALL_AFTER_MIN_S, STALL_AFTER_INTERVALS * poll_interval_s)


def default_rules(poll_interval_s: float) -> list[RuleSpec]:
    return [
        RuleSpec(
            id="gpu-temperature-critical",
            name="GPU temperature critical",
            description="A GPU at or above 85 °C for a minute throttles and ages faster.",
            metric="gpu.temperature_c",
            condition=">=",
            threshold=85,
            clear_threshold=80,
            for_s=60,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id="gpu-memory-full",
            name="GPU memory nearly full",
            description="At 95 % for five minutes the next allocation will fail with out-of-memory.",
            metric="gpu.memory_used_pct",
            condition=">=",
            threshold=95,
            clear_threshold=90,
            for_s=300,
            severity="warning",
            builtin=True,
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
