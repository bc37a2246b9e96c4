"""Two hubs and a few nodes as real processes on the real PostgreSQL: a node killed with SIGKILL turns
offline and back online, each fleet alert transition reaches a webhook once, and when the hub that
evaluates the fleet rules is killed the other takes over and still notifies each transition once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gpu_sentinel.fleet.alerts import NODE_OFFLINE_ID
from tests.alerts.receivers import Received, WebhookReceiver, webhook_server
from tests.fleet.conftest import wait_until
from tests.fleet.processes import FAST_FLEET, ServeProcess

pytestmark = pytest.mark.real_component


def statuses(hub: ServeProcess) -> dict[str, str]:
    try:
        body = httpx.get(f"{hub.url}/api/v1/fleet/nodes", timeout=2).json()
    except httpx.TransportError:
        return {}
    return {node["name"]: node["status"] for node in body["nodes"]}


def leader(hubs: list[ServeProcess]) -> ServeProcess | None:
    leaders = [
        hub
        for hub in hubs
        if httpx.get(f"{hub.url}/api/v1/fleet/nodes", timeout=2).json()["hub"]["evaluates_fleet_alerts"]
    ]
    assert len(leaders) <= 1, "two hubs evaluate the fleet rules at once"
    return leaders[0] if leaders else None


def offline_notices(receiver: WebhookReceiver, node: str) -> list[tuple[str, str]]:
    """The node's "Node offline" notifications as a receiver keeps them, deduplicated on their
    idempotency key as the README asks: a hub killed between sending one and recording it as sent
    sends it again (at least once), while a second evaluation would be a transition of its own."""
    with receiver.event:
        received: list[Received] = list(receiver.received)
    notices = (
        (r.body["status"], r.body["idempotency_key"])
        for r in received
        if r.body["rule"]["id"] == NODE_OFFLINE_ID and r.body["node"]["name"] == node
    )
    return list(dict.fromkeys(notices))


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str) -> Iterator[tuple[list[ServeProcess], list[ServeProcess], Any]]:
    with webhook_server(WebhookReceiver()) as receiver:
        rules = tmp_path / "alerts.yaml"
        rules.write_text(
            yaml.safe_dump({"channels": [{"name": "hook", "type": "webhook", "url": receiver.url}]})
        )
        env = {**FAST_FLEET, "DATABASE_URL": pg_url, "GPU_SENTINEL_ALERT_RULES_FILE": str(rules)}
        hubs = [ServeProcess(f"hub-{i}", tmp_path / f"hub-{i}", ["--hub", "--no-gpu"], env) for i in (1, 2)]
        nodes = [
            ServeProcess(f"node-{i}", tmp_path / f"node-{i}", ["--simulate", "1"], env) for i in (1, 2, 3)
        ]
        try:
            for process in (*hubs, *nodes):
                process.start()
            yield hubs, nodes, receiver
        finally:
            for process in (*hubs, *nodes):
                process.stop()


def test_a_killed_node_goes_offline_alerts_once_and_a_killed_hub_is_replaced(
    fleet: tuple[list[ServeProcess], list[ServeProcess], WebhookReceiver],
) -> None:
    hubs, nodes, receiver = fleet
    names = {p.name for p in (*hubs, *nodes)}
    for hub in hubs:
        wait_until(
            lambda hub=hub: (s := statuses(hub)) and set(s) == names and set(s.values()) == {"online"},
            "all online",
        )
    first = wait_until(lambda: leader(hubs), "a hub to evaluate the fleet rules")

    victim = nodes[0]
    victim.kill()
    for hub in hubs:
        wait_until(lambda hub=hub: statuses(hub).get(victim.name) == "offline", f"{victim.name} offline")
    wait_until(lambda: offline_notices(receiver, victim.name), "the firing notification")
    victim.start()
    for hub in hubs:
        wait_until(lambda hub=hub: statuses(hub).get(victim.name) == "online", f"{victim.name} back online")
    notices = wait_until(lambda: len(n := offline_notices(receiver, victim.name)) >= 2 and n, "resolved")

    survivor = next(hub for hub in hubs if hub is not first)
    first.kill()
    wait_until(lambda: leader([survivor]), "the other hub to take over")
    wait_until(lambda: statuses(survivor).get(first.name) == "offline", "the killed hub offline")
    hub_notices = wait_until(lambda: offline_notices(receiver, first.name), "the dead hub's firing notice")

    second = nodes[1]
    second.kill()
    wait_until(lambda: offline_notices(receiver, second.name), "the second node's firing notice")
    second.start()
    # By the resolution, a duplicate from a second evaluator would long have arrived.
    wait_until(lambda: len(offline_notices(receiver, second.name)) >= 2, "the second node's resolved notice")

    assert [s for s, _ in notices] == ["firing", "resolved"]
    assert [s for s, _ in offline_notices(receiver, victim.name)] == ["firing", "resolved"]
    assert [s for s, _ in offline_notices(receiver, first.name)] == ["firing"] == [s for s, _ in hub_notices]
    assert [s for s, _ in offline_notices(receiver, second.name)] == ["firing", "resolved"]
