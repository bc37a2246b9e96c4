"""Fleet alerts on the real PostgreSQL, two hubs competing for the lock: a flapping node notifies per
the cooldown, and the hub that takes over keeps the cooldown and the active alerts of the one before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.fleet.alerts import FLEET_ALERTS_NODE, NODE_OFFLINE_ID, FleetAlerts
from gpu_sentinel.fleet.live import NodeLive
from gpu_sentinel.store import open_database
from tests.alerts.conftest import fast_settings, quiet_builtins
from tests.alerts.receivers import WebhookReceiver, webhook_server
from tests.fleet.conftest import wait_until
from tests.fleet.test_rules import BOUNDS, fleet, node

pytestmark = pytest.mark.real_component


class Fleet:
    """What both hubs see: the nodes' live state and the time, both set by the test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.nodes: dict[str, NodeLive] = {}

    def heard(self, heartbeat: float, now: float) -> None:
        self.nodes, self.now = fleet(node("a", heartbeat)), now


@pytest.fixture
def hubs(tmp_path: Path, pg_url: str) -> Iterator[tuple[list[FleetAlerts], Fleet, WebhookReceiver]]:
    state = Fleet()
    managers: list[AlertManager] = []
    evaluators: list[FleetAlerts] = []
    with webhook_server(WebhookReceiver()) as receiver:
        try:
            for name in ("hub-1", "hub-2"):
                settings = fast_settings(tmp_path / name, pg_url)
                manager = AlertManager(settings, open_database(settings), node_id=uuid.uuid4().hex)
                manager.start()
                managers.append(manager)
            quiet_builtins(managers[0])
            managers[0].config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
            wait_until(managers[1].config.channels, "the channel on the second hub")
            for manager in managers:
                evaluator = FleetAlerts(
                    pg_url,
                    lambda: state.nodes,
                    manager,
                    BOUNDS,
                    default_cooldown_s=300,
                    tick_s=0.05,
                    clock=lambda: state.now,
                )
                evaluator.start()
                evaluators.append(evaluator)
                if len(evaluators) == 1:
                    wait_until(lambda: evaluators[0].leading, "the first hub to evaluate")
            yield evaluators, state, receiver
        finally:
            for evaluator in evaluators:
                evaluator.stop()
            for manager in managers:
                manager.stop()


def offline_history(evaluator: FleetAlerts) -> list[tuple[Any, ...]]:
    _, items = evaluator.repository.history(HistoryFilter(rule_id=NODE_OFFLINE_ID))
    return [(t["state"], bool(t["notify"]), t["suppressed"]) for t in reversed(items)]


def notices(receiver: WebhookReceiver) -> list[str]:
    with receiver.event:
        return [r.body["status"] for r in receiver.received]


def test_a_flapping_node_notifies_per_cooldown_also_across_a_hub_failover(
    hubs: tuple[list[FleetAlerts], Fleet, WebhookReceiver],
) -> None:
    (first, second), state, receiver = hubs
    assert first.repository.node_id == FLEET_ALERTS_NODE and not second.leading

    state.heard(100.0, now=105.0)  # silent for 5 s: offline
    wait_until(lambda: notices(receiver) == ["firing"], "the firing notification")
    state.heard(110.0, now=110.0)
    wait_until(lambda: notices(receiver) == ["firing", "resolved"], "the resolved notification")
    state.heard(110.0, now=120.0)  # offline again, 15 s after the last notification
    wait_until(lambda: len(offline_history(first)) == 3, "the second firing")

    first.stop()  # the lock is released; the other hub takes over with the alert still firing
    wait_until(lambda: second.leading, "the second hub to take over")
    state.heard(125.0, now=125.0)
    wait_until(lambda: len(offline_history(second)) == 4, "the flap's resolution")
    state.heard(125.0, now=130.0)
    wait_until(lambda: len(offline_history(second)) == 5, "the third firing")
    state.heard(1500.0, now=1500.0)  # back, and silent again after the cooldown: notified
    wait_until(lambda: len(offline_history(second)) == 6, "the third flap's resolution")
    state.heard(1500.0, now=1510.0)
    wait_until(lambda: len(notices(receiver)) == 3, "the notification after the cooldown")

    assert offline_history(second) == [
        ("firing", True, None),
        ("resolved", True, None),
        ("firing", False, "cooldown"),
        ("resolved", False, None),
        ("firing", False, "cooldown"),
        ("resolved", False, None),
        ("firing", True, None),
    ]
    assert notices(receiver) == ["firing", "resolved", "firing"]
