"""The state machine with a fake clock: every transition a user would see, and when they hear of it."""

from __future__ import annotations

from typing import Any

from gpu_sentinel.alerts.engine import AlertEngine
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.rules import Matcher, RuleSpec, SilenceSpec
from gpu_sentinel.alerts.silences import CompiledSilence
from tests.alerts.helpers import gpu, process, snapshot, temps


def hot_rule(**overrides: Any) -> RuleSpec:
    values: dict[str, Any] = {
        "id": "hot",
        "name": "Hot",
        "metric": "gpu.temperature_c",
        "condition": ">=",
        "threshold": 85,
        "for": "10s",
        "severity": "critical",
    }
    return RuleSpec.model_validate({**values, **overrides})


def steps(transitions: list[Transition]) -> list[tuple[str, str, bool]]:
    return [(t.instance, t.kind, t.notify) for t in transitions]


def engine(*rules: RuleSpec, cooldown_s: float = 0, repeat_s: float = 0) -> AlertEngine:
    return AlertEngine(rules, default_cooldown_s=cooldown_s, default_repeat_s=repeat_s)


def test_pending_then_firing_after_for_then_resolved() -> None:
    alerts = engine(hot_rule())
    assert alerts.evaluate(temps(0, 80)) == []
    assert steps(alerts.evaluate(temps(1, 86))) == [("gpu0", "pending", False)]
    assert alerts.evaluate(temps(10, 87)) == []
    fired = alerts.evaluate(temps(11, 88))
    assert steps(fired) == [("gpu0", "firing", True)]
    assert fired[0].value == 88 and fired[0].active_since == 1
    assert alerts.evaluate(temps(12, 90)) == []
    assert steps(alerts.evaluate(temps(13, 70))) == [("gpu0", "resolved", True)]
    assert alerts.active() == []


def test_pending_that_clears_before_for_never_notifies() -> None:
    alerts = engine(hot_rule())
    alerts.evaluate(temps(0, 90))
    assert steps(alerts.evaluate(temps(5, 80))) == [("gpu0", "inactive", False)]
    assert alerts.evaluate(temps(20, 80)) == []


def test_zero_for_fires_at_once() -> None:
    alerts = engine(hot_rule(**{"for": 0}))
    assert steps(alerts.evaluate(temps(0, 90))) == [("gpu0", "firing", True)]


def test_one_instance_per_gpu() -> None:
    alerts = engine(hot_rule(**{"for": 0}))
    assert steps(alerts.evaluate(temps(0, 90, 70, 95))) == [
        ("gpu0", "firing", True),
        ("gpu2", "firing", True),
    ]
    assert steps(alerts.evaluate(temps(1, 70, 70, 95))) == [("gpu0", "resolved", True)]
    assert [inst.key for _, inst in alerts.active()] == [2]


def test_rule_for_one_gpu_ignores_the_others() -> None:
    alerts = engine(hot_rule(**{"for": 0, "gpu_id": 1}))
    assert alerts.evaluate(temps(0, 99, 70)) == []
    assert steps(alerts.evaluate(temps(1, 99, 91))) == [("gpu1", "firing", True)]


def test_hysteresis_holds_firing_until_clear_threshold() -> None:
    alerts = engine(hot_rule(**{"for": 0, "clear_threshold": 80}))
    alerts.evaluate(temps(0, 90))
    assert alerts.evaluate(temps(1, 84)) == []
    assert alerts.evaluate(temps(2, 80.5)) == []
    assert steps(alerts.evaluate(temps(3, 79.9))) == [("gpu0", "resolved", True)]


def test_keep_firing_for_rides_out_a_gap() -> None:
    alerts = engine(hot_rule(**{"for": 0, "keep_firing_for": "30s"}))
    alerts.evaluate(temps(0, 90))
    assert alerts.evaluate(temps(20, 70)) == []
    assert alerts.evaluate(temps(25, 90)) == []
    assert alerts.evaluate(temps(50, 70)) == []
    assert steps(alerts.evaluate(temps(56, 70))) == [("gpu0", "resolved", True)]


def test_repeats_only_after_the_repeat_interval() -> None:
    alerts = engine(hot_rule(**{"for": 0, "repeat_interval": "60s"}))
    alerts.evaluate(temps(0, 90))
    assert alerts.evaluate(temps(59, 90)) == []
    assert steps(alerts.evaluate(temps(60, 90))) == [("gpu0", "repeat", True)]
    assert alerts.evaluate(temps(100, 90)) == []
    assert steps(alerts.evaluate(temps(121, 90))) == [("gpu0", "repeat", True)]


def test_acknowledged_alert_stops_repeating_but_still_resolves() -> None:
    alerts = engine(hot_rule(**{"for": 0, "repeat_interval": "60s"}))
    alerts.evaluate(temps(0, 90))
    assert alerts.acknowledge("hot", 0, "alice", 10) is not None
    assert alerts.evaluate(temps(200, 90)) == []
    assert steps(alerts.evaluate(temps(201, 60))) == [("gpu0", "resolved", True)]
    assert alerts.acknowledge("hot", 0, "alice", 202) is None


def test_cooldown_suppresses_a_quick_refire_and_its_resolve() -> None:
    alerts = engine(hot_rule(**{"for": 0}), cooldown_s=300)
    alerts.evaluate(temps(0, 90))
    alerts.evaluate(temps(10, 60))
    refired = alerts.evaluate(temps(20, 90))
    assert steps(refired) == [("gpu0", "firing", False)]
    assert refired[0].suppressed == "cooldown"
    assert steps(alerts.evaluate(temps(30, 60))) == [("gpu0", "resolved", False)]
    assert steps(alerts.evaluate(temps(400, 90))) == [("gpu0", "firing", True)]


def test_alert_still_firing_after_its_cooldown_notifies_then() -> None:
    alerts = engine(hot_rule(**{"for": 0}), cooldown_s=300)
    alerts.evaluate(temps(0, 90))
    alerts.evaluate(temps(10, 60))
    alerts.evaluate(temps(20, 90))
    assert steps(alerts.evaluate(temps(301, 90))) == [("gpu0", "firing", True)]


def test_silence_mutes_matching_alerts_in_its_window_only() -> None:
    alerts = engine(hot_rule(**{"for": 0}))
    silence = SilenceSpec(
        matchers=[Matcher(label="rule_id", value="hot"), Matcher(label="gpu", value="[01]", regex=True)],
        starts_at=0,
        ends_at=100,
    )
    alerts.set_silences([CompiledSilence.compile(silence, 0)])
    fired = alerts.evaluate(temps(10, 90, 70, 90))
    assert steps(fired) == [("gpu0", "firing", False), ("gpu2", "firing", True)]
    assert fired[0].suppressed == "silenced"
    assert alerts.evaluate(temps(50, 90, 70, 90)) == []
    assert steps(alerts.evaluate(temps(100, 90, 70, 90))) == [("gpu0", "firing", True)]


def test_host_metric_has_one_instance() -> None:
    rule = RuleSpec(id="cpu", name="CPU", metric="host.cpu_pct", condition=">", threshold=90)
    alerts = engine(rule)
    assert steps(alerts.evaluate(snapshot(0, cpu=95))) == [("host", "firing", True)]
    assert steps(alerts.evaluate(snapshot(1, cpu=10))) == [("host", "resolved", True)]


def test_less_than_condition() -> None:
    rule = RuleSpec(id="slow", name="Slow clock", metric="gpu.sm_clock_mhz", condition="<", threshold=500)
    alerts = engine(rule)
    assert alerts.evaluate(snapshot(0, [gpu(0, sm_clock_mhz=1500)])) == []
    assert steps(alerts.evaluate(snapshot(1, [gpu(0, sm_clock_mhz=300)]))) == [("gpu0", "firing", True)]


def test_xid_event_fires_and_names_the_code() -> None:
    rule = RuleSpec(id="xid", name="XID", metric="event.xid", threshold=0, keep_firing_for_s=60)
    alerts = engine(rule)
    assert alerts.evaluate(snapshot(0, [gpu(0, xid_count=3, last_xid=13)])) == []
    fired = alerts.evaluate(snapshot(1, [gpu(0, xid_count=4, last_xid=79)]))
    assert steps(fired) == [("gpu0", "firing", True)]
    assert fired[0].value == 79 and fired[0].details["xid"] == 79
    assert alerts.evaluate(snapshot(30, [gpu(0, xid_count=4, last_xid=79)])) == []
    assert steps(alerts.evaluate(snapshot(62, [gpu(0, xid_count=4, last_xid=79)]))) == [
        ("gpu0", "resolved", True)
    ]


def test_uncorrectable_ecc_counts_new_errors() -> None:
    rule = RuleSpec(id="ecc", name="ECC", metric="event.ecc_uncorrectable", threshold=0)
    alerts = engine(rule)
    alerts.evaluate(snapshot(0, [gpu(0, ecc_uncorrected_volatile=2)]))
    fired = alerts.evaluate(snapshot(1, [gpu(0, ecc_uncorrected_volatile=5)]))
    assert steps(fired) == [("gpu0", "firing", True)] and fired[0].value == 3


def test_lost_gpu_fires_and_its_metric_alerts_resolve() -> None:
    lost = RuleSpec(id="lost", name="Lost", metric="event.gpu_lost", condition=">=", threshold=1)
    alerts = engine(lost, hot_rule(**{"for": 0}))
    alerts.evaluate(temps(0, 90))
    gone = snapshot(1, [gpu(0, lost=True, temperature_c=None, utilization_gpu_pct=None)])
    assert sorted(steps(alerts.evaluate(gone))) == [("gpu0", "firing", True), ("gpu0", "resolved", True)]


def test_allocated_but_idle_names_processes_and_users() -> None:
    rule = RuleSpec(id="idle", name="Idle", metric="gpu.idle_allocated_gib", threshold=1, for_s=900)
    alerts = engine(rule)
    holders = [process(4242, "alice", 6), process(4243, "bob", 2)]
    idle = [gpu(0, utilization_gpu_pct=0.0, processes=holders), gpu(1, utilization_gpu_pct=0.0)]
    alerts.evaluate(snapshot(0, idle))
    fired = alerts.evaluate(snapshot(900, idle))
    assert steps(fired) == [("gpu0", "firing", True)]
    assert fired[0].value == 8.0
    assert {p["user"] for p in fired[0].details["processes"]} == {"alice", "bob"}
    assert "alice" in fired[0].summary() and "4243" in fired[0].summary()
    busy = [gpu(0, utilization_gpu_pct=30.0, processes=holders)]
    assert steps(alerts.evaluate(snapshot(901, busy))) == [("gpu0", "resolved", True)]


def test_watchdog_fires_without_snapshots_and_resolves_with_the_next() -> None:
    rule = RuleSpec(id="stall", name="Stall", metric="event.sampler_stalled", condition=">=", threshold=5)
    alerts = engine(rule)
    alerts.evaluate(snapshot(100))
    assert alerts.watchdog(103) == []
    assert steps(alerts.watchdog(106)) == [("host", "firing", True)]
    assert steps(alerts.evaluate(snapshot(107))) == [("host", "resolved", True)]


def test_disabling_a_firing_rule_resolves_its_alerts() -> None:
    alerts = engine(hot_rule(**{"for": 0}))
    alerts.evaluate(temps(0, 90))
    resolved = alerts.set_rules([hot_rule(**{"for": 0, "enabled": False})], now=5)
    assert steps(resolved) == [("gpu0", "resolved", True)]
    assert alerts.evaluate(temps(6, 99)) == []


def test_editing_a_threshold_keeps_the_alert() -> None:
    alerts = engine(hot_rule(**{"for": 0}))
    alerts.evaluate(temps(0, 90))
    assert alerts.set_rules([hot_rule(**{"for": 0, "threshold": 88})], now=1) == []
    assert alerts.evaluate(temps(2, 89)) == []
    assert steps(alerts.evaluate(temps(3, 87))) == [("gpu0", "resolved", True)]


def test_restored_alert_does_not_fire_again() -> None:
    first = engine(hot_rule(**{"for": 0}))
    first.evaluate(temps(0, 90))
    saved = [inst for _, inst in first.active()]
    second = engine(hot_rule(**{"for": 0}))
    second.restore(saved, [("hot", 0, 0.0)])
    assert second.evaluate(temps(10, 90)) == []
    assert steps(second.evaluate(temps(11, 60))) == [("gpu0", "resolved", True)]


def test_quiet_rules_cost_nothing_when_no_gpu_is_near() -> None:
    rules = [hot_rule(id=f"r{i}", threshold=85 + i) for i in range(100)]
    alerts = engine(*rules)
    for t in range(10):
        assert alerts.evaluate(temps(t, *[60.0] * 8)) == []
