"""Every node's own alerts in the hub's one fleet alert list, on the real PostgreSQL: two nodes with
simulated GPUs fire a shared rule on each of their GPUs, and the hub lists each firing with its node;
acknowledging one on the hub stops it repeating on its node; a fleet alert joins the same list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.service import Service
from tests.api.conftest import ADMIN, FAST_HASHER, VIEWER, bearer, make_client
from tests.fleet.conftest import NodeFactory, fleet_settings, wait_until

pytestmark = pytest.mark.real_component
HOT_RULE = {
    "id": "hot",
    "name": "GPU warm at all",
    "metric": "gpu.temperature_c",
    "condition": ">",
    "threshold": -100,
    "for": "0s",
    "severity": "warning",
    "repeat_interval": "1s",
}


@pytest.fixture
def hub(tmp_path: Path, pg_url: str) -> Iterator[tuple[TestClient, Service]]:
    settings = fleet_settings(
        tmp_path / "hub",
        node_name="hub",
        hub=True,
        database_url=pg_url,
        enable_gpu_monitoring=False,
        alerts_enabled=True,
        anonymous_read=False,
    )
    service = Service(settings)
    service.auth.users.hasher = FAST_HASHER
    service.auth.users.add(*ADMIN, role="admin")
    service.auth.users.add(*VIEWER, role="viewer")
    with make_client(settings, service) as client:
        yield client, service


def listed(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/fleet/alerts", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def repeats(node: Service, gpu: int) -> int:
    """How often the node has repeated its ``hot`` alert on this GPU: one notification each."""
    _, rows = node.alerts.history(HistoryFilter(rule_id="hot", gpu_id=gpu, limit=1000))
    return sum(1 for row in rows if row["kind"] == "repeat")


def test_the_hub_lists_every_nodes_own_firing_alerts_with_their_node(
    hub: tuple[TestClient, Service], make_node: NodeFactory, pg_url: str
) -> None:
    client, hub_service = hub
    admin, viewer = bearer(client, ADMIN), bearer(client, VIEWER)
    assert client.post("/api/v1/alerts/rules", json=HOT_RULE, headers=admin).status_code == 201
    alpha = make_node("alpha", gpus=1, database_url=pg_url, alerts_enabled=True)
    beta = make_node("beta", gpus=2, database_url=pg_url, alerts_enabled=True)
    wanted = {"hot:alpha/gpu0", "hot:beta/gpu0", "hot:beta/gpu1"}

    def hot() -> dict[str, dict[str, Any]] | None:
        alerts = {a["id"]: a for a in listed(client, viewer)["alerts"] if a["rule_id"] == "hot"}
        return alerts if set(alerts) == wanted else None

    alerts = wait_until(hot, "both nodes' firing alerts on the hub")
    ids = {"alpha": alpha.node.id, "beta": beta.node.id}
    for alert in alerts.values():
        node = alert["node"]
        assert (alert["source"], alert["node_id"], alert["state"]) == ("node", ids[node], "firing")
        assert alert["instance"] == f"{node}/gpu{alert['gpu_id']}"
        assert (alert["rule_name"], alert["severity"], alert["acknowledged"]) == (
            "GPU warm at all",
            "warning",
            False,
        )
    assert listed(client, viewer)["hub_node_id"] == hub_service.node.id

    # Acknowledged on the hub, a node's own alert is acknowledged there at once and on its node soon
    # after: it stops repeating there while its unacknowledged neighbour goes on.
    assert client.post("/api/v1/fleet/alerts/hot:beta/gpu1/ack", headers=viewer).status_code == 403
    acked = client.post("/api/v1/fleet/alerts/hot:beta/gpu1/ack", headers=admin)
    assert acked.status_code == 200, acked.text
    assert (acked.json()["id"], acked.json()["acknowledged_by"]) == ("hot:beta/gpu1", ADMIN[0])
    on_hub = {a["id"]: a for a in listed(client, viewer)["alerts"]}
    assert (on_hub["hot:beta/gpu1"]["acknowledged"], on_hub["hot:beta/gpu0"]["acknowledged"]) == (True, False)
    on_beta = wait_until(
        lambda: next((a for a in beta.alerts.active() if a["id"] == "hot:gpu1" and a["acknowledged"]), None),
        "beta taking up the hub's acknowledgement",
    )
    assert on_beta["acknowledged_by"] == ADMIN[0]
    stopped_at, neighbour = repeats(beta, 1), repeats(beta, 0)
    wait_until(lambda: repeats(beta, 0) >= neighbour + 2, "beta repeating its unacknowledged alert")
    assert repeats(beta, 1) == stopped_at
    assert client.post("/api/v1/fleet/alerts/hot:beta/gpu7/ack", headers=admin).status_code == 404

    # A fleet rule's alert joins the same list, marked as the fleet's.
    alpha.stop()
    offline = wait_until(
        lambda: next(
            (a for a in listed(client, viewer)["alerts"] if a["node"] == "alpha" and a["source"] == "fleet"),
            None,
        ),
        "alpha's Node offline in the list",
    )
    assert (offline["id"], offline["node_id"]) == ("fleet-node-offline:alpha", alpha.node.id)
    assert {"hot:beta/gpu0", "hot:beta/gpu1"} <= {a["id"] for a in listed(client, viewer)["alerts"]}


def test_a_hubs_browsers_hear_every_nodes_alert_transitions_and_the_fleets_as_they_happen(
    hub: tuple[TestClient, Service], make_node: NodeFactory, pg_url: str
) -> None:
    client, _ = hub
    admin, viewer = bearer(client, ADMIN), bearer(client, VIEWER)
    assert client.post(
        "/api/v1/alerts/rules", json={**HOT_RULE, "repeat_interval": "0s"}, headers=admin
    ).is_success
    with client.websocket_connect("/api/v1/stream", headers=viewer) as stream:

        def next_alert_event(what: str) -> dict[str, Any]:
            """The stream's next alert event; snapshots keep coming meanwhile, so this cannot hang."""
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message = stream.receive_json()
                if message["type"] == "alert":
                    return dict(message)
            pytest.fail(f"no alert event for {what}")

        beta = make_node("beta", gpus=1, database_url=pg_url, alerts_enabled=True)
        firing = next_alert_event("beta's own alert firing")
        assert (firing["rule"]["id"], firing["status"], firing["instance"]) == ("hot", "firing", "gpu0")
        assert firing["node"] == {"name": "beta", "id": beta.node.id}
        assert firing["notify"] is True

        wait_until(
            lambda: any(a["id"] == "hot:beta/gpu0" for a in listed(client, viewer)["alerts"]),
            "the hub to know beta",
        )
        beta.stop()
        offline = next_alert_event("beta going offline")
        assert (offline["rule"]["id"], offline["status"]) == ("fleet-node-offline", "firing")
        assert offline["node"] == {"name": "beta", "id": beta.node.id}
