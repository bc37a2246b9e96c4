"""Every node's own alerts in the hub's one fleet alert list, on the real PostgreSQL: two nodes with
simulated GPUs fire a shared rule on each of their GPUs, and the hub lists each firing with its node;
acknowledging one on the hub is refused with the way to do it; a fleet alert joins the same list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

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

    refused = client.post("/api/v1/fleet/alerts/hot:beta/gpu1/ack", headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "acknowledge_on_node"

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
