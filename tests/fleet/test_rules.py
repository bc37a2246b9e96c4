"""The fleet rules' state machine on a fake clock: node offline, GPU unresponsive across nodes, and the
state a new evaluating hub resumes."""

from __future__ import annotations

import orjson

from gpu_sentinel.alerts.rules import Matcher, SilenceSpec
from gpu_sentinel.alerts.silences import CompiledSilence
from gpu_sentinel.fleet.alerts import GPU_UNRESPONSIVE_ID, NODE_OFFLINE_ID, FleetRules, fleet_rules
from gpu_sentinel.fleet.live import LiveRecord, NodeLive, StatusBounds

BOUNDS = StatusBounds(online_within_s=1.0, offline_after_s=3.0)


def node(name: str, heartbeat: float, unresponsive: tuple[int, ...] = (), gpus: int = 2) -> NodeLive:
    state = {
        "timestamp": heartbeat,
        "gpus": [{"gpu_id": i, "gpu_name": "H100", "unresponsive": i in unresponsive} for i in range(gpus)],
        "gpu_processes": [],
    }
    node_id = (name.encode().hex() + "0" * 32)[:32]
    record = LiveRecord(node_id, name, "1", "http://x:1/metrics", gpus, 0, heartbeat, orjson.dumps(state))
    return NodeLive.of(record)


def fleet(*nodes: NodeLive) -> dict[str, NodeLive]:
    return {n.id: n for n in nodes}


def test_a_silent_node_fires_once_and_resolves_when_heard_again() -> None:
    rules = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS)
    assert rules.evaluate(fleet(node("a", 100.0), node("b", 100.0)), now=101.0) == []
    (fired,) = rules.evaluate(fleet(node("a", 100.0), node("b", 104.0)), now=104.0)
    assert (fired.rule.id, fired.instance, fired.state) == (NODE_OFFLINE_ID, "a", "firing")
    assert fired.payload()["node"]["name"] == "a" and fired.payload()["status"] == "firing"
    assert rules.evaluate(fleet(node("a", 100.0), node("b", 110.0)), now=110.0) == []
    (resolved,) = rules.evaluate(fleet(node("a", 111.0), node("b", 111.0)), now=111.0)
    assert (resolved.instance, resolved.state, resolved.payload()["status"]) == ("a", "resolved", "resolved")


def test_an_unresponsive_gpu_fires_per_gpu_and_waits_out_its_nodes_silence() -> None:
    rules = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS)
    (fired,) = rules.evaluate(fleet(node("a", 100.0, unresponsive=(1,))), now=100.5)
    assert (fired.rule.id, fired.instance, fired.gpu_id) == (GPU_UNRESPONSIVE_ID, "a/gpu1", 1)
    # The node goes silent: it fires offline, and its GPU's alert neither resolves nor fires again.
    (offline,) = rules.evaluate(fleet(node("a", 100.0, unresponsive=(1,))), now=105.0)
    assert offline.rule.id == NODE_OFFLINE_ID
    changes = rules.evaluate(fleet(node("a", 106.0)), now=106.0)
    assert sorted((t.instance, t.state) for t in changes) == [("a", "resolved"), ("a/gpu1", "resolved")]


def test_a_hub_taking_over_resumes_active_alerts_without_firing_them_again() -> None:
    first = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS)
    first.evaluate(fleet(node("a", 100.0)), now=105.0)
    second = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS)
    second.restore(list(first.active.values()))
    assert second.evaluate(fleet(node("a", 100.0)), now=106.0) == []
    (resolved,) = second.evaluate(fleet(node("a", 107.0)), now=107.0)
    assert (resolved.instance, resolved.state) == ("a", "resolved")


def flaps(rules: FleetRules, start: float, count: int, period_s: float = 10.0) -> list[tuple[str, bool]]:
    """A node that drops out for half of every ``period_s`` (long enough to go offline), ``count`` times."""
    seen: list[tuple[str, bool]] = []
    for i in range(count):
        t = start + i * period_s
        seen += [(c.state, c.notify) for c in rules.evaluate(fleet(node("a", t)), now=t)]
        gone = t + period_s / 2
        seen += [(c.state, c.notify) for c in rules.evaluate(fleet(node("a", t)), now=gone)]
    return seen


def test_a_flapping_node_notifies_once_per_cooldown_not_per_flap() -> None:
    rules = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=300)
    seen = flaps(rules, 1000.0, count=20)  # 200 s: all within one cooldown
    assert len(seen) == 39, "every flap is recorded: 20 times offline, 19 times back"
    assert [s for s in seen if s[1]] == [("firing", True), ("resolved", True)]
    assert seen[:4] == [("firing", True), ("resolved", True), ("firing", False), ("resolved", False)]
    # Once the cooldown since the first notification is over, the next flap notifies again, once.
    later = flaps(rules, 1000.0 + 310, count=3)
    assert later[0] == ("resolved", False)
    assert [s for s in later if s[1]] == [("firing", True), ("resolved", True)]


def test_a_node_offline_past_its_cooldown_is_notified_then_and_repeated() -> None:
    rules = FleetRules(
        fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=300, default_repeat_s=3600
    )
    flaps(rules, 1000.0, count=1)  # fired and notified at 1005
    assert [c.state for c in rules.evaluate(fleet(node("a", 1010.0)), now=1010.0)] == ["resolved"]
    (quiet,) = rules.evaluate(fleet(node("a", 1010.0)), now=1020.0)  # offline again, within the cooldown
    assert (quiet.state, quiet.notify, quiet.suppressed) == ("firing", False, "cooldown")
    assert rules.evaluate(fleet(node("a", 1010.0)), now=1200.0) == []
    (late,) = rules.evaluate(fleet(node("a", 1010.0)), now=1306.0)  # the cooldown is over, still offline
    assert (late.state, late.kind, late.notify) == ("firing", "firing", True)
    assert rules.evaluate(fleet(node("a", 1010.0)), now=1306.0 + 3599) == []
    (repeat,) = rules.evaluate(fleet(node("a", 1010.0)), now=1306.0 + 3600)
    assert (repeat.state, repeat.kind, repeat.notify) == ("firing", "repeat", True)
    (back,) = rules.evaluate(fleet(node("a", 5000.0)), now=5000.0)
    assert (back.state, back.notify) == ("resolved", True)


def test_a_silence_mutes_a_node_under_maintenance_and_no_other() -> None:
    silence = SilenceSpec(
        id="maintenance", matchers=[Matcher(label="instance", value="a")], starts_at=0, ends_at=2000
    )
    muted = [CompiledSilence.compile(silence, 0)]
    rules = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=0)
    changes = rules.evaluate(fleet(node("a", 100.0), node("b", 100.0)), now=105.0, silences=muted)
    assert sorted((c.instance, c.notify, c.suppressed) for c in changes) == [
        ("a", False, "silenced"),
        ("b", True, None),
    ]
    # Still offline when the silence ends: it notifies then.
    (after,) = rules.evaluate(fleet(node("a", 100.0), node("b", 100.0)), now=2001.0)
    assert (after.instance, after.kind, after.notify) == ("a", "firing", True)


def test_a_hub_taking_over_keeps_the_cooldown() -> None:
    first = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=300)
    flaps(first, 1000.0, count=1)
    first.evaluate(fleet(node("a", 1010.0)), now=1010.0)
    second = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=300)
    second.restore(list(first.active.values()), {f"{NODE_OFFLINE_ID}:a": 1005.0})
    (again,) = second.evaluate(fleet(node("a", 1010.0)), now=1020.0)
    assert (again.state, again.notify, again.suppressed) == ("firing", False, "cooldown")


def test_only_a_repeat_about_to_be_sent_asks_whether_the_alert_was_acknowledged() -> None:
    rules = FleetRules(fleet_rules(BOUNDS.offline_after_s), BOUNDS, default_cooldown_s=0, default_repeat_s=60)
    (fired,) = rules.evaluate(fleet(node("a", 100.0)), now=105.0)
    assert fired.notify and rules.repeats_due(164.0, ()) == []
    (instance,) = rules.repeats_due(165.0, ())
    silence = SilenceSpec(id="m", matchers=[Matcher(label="instance", value="a")], starts_at=0, ends_at=2000)
    assert rules.repeats_due(165.0, [CompiledSilence.compile(silence, 0)]) == []  # muted: nothing to ask
    instance.acked_by, instance.acked_at = "ana", 150.0
    assert rules.repeats_due(165.0, ()) == []
    assert rules.evaluate(fleet(node("a", 100.0)), now=400.0) == []  # acknowledged: no repeat
