"""Live state through the real PostgreSQL: nodes publish, a hub lists them, filters their GPUs, shows any
node's full snapshot and streams it; a database outage never stalls a node's sampler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from gpu_sentinel import json_delta
from gpu_sentinel.fleet.models import FleetGPUsResponse
from gpu_sentinel.service import Service
from tests.api.conftest import make_client
from tests.fleet.conftest import NodeFactory, fleet_settings, wait_until
from tests.store.proxy import TCPProxy

pytestmark = pytest.mark.real_component


@pytest.fixture
def hub(tmp_path: Path, pg_url: str) -> Iterator[TestClient]:
    settings = fleet_settings(
        tmp_path / "hub", node_name="hub", hub=True, database_url=pg_url, enable_gpu_monitoring=False
    )
    with make_client(settings) as client:
        yield client


def nodes_by_name(hub: TestClient) -> dict[str, dict[str, Any]]:
    response = hub.get("/api/v1/fleet/nodes")
    assert response.status_code == 200, response.text
    return {node["name"]: node for node in response.json()["nodes"]}


def test_every_node_appears_online_with_its_gpus_version_driver_and_cuda(
    hub: TestClient, make_node: NodeFactory, pg_url: str
) -> None:
    alpha = make_node("alpha", gpus=2, database_url=pg_url, alerts_enabled=True)
    make_node("beta", gpus=3, database_url=pg_url)
    nodes = wait_until(
        lambda: (n := nodes_by_name(hub)) and {"alpha", "beta", "hub"} <= set(n) and n, "three nodes"
    )
    assert nodes["alpha"]["id"] == alpha.node.id
    assert (nodes["alpha"]["gpu_count"], nodes["beta"]["gpu_count"], nodes["hub"]["gpu_count"]) == (2, 3, 0)
    assert {node["status"] for node in nodes.values()} == {"online"}
    assert nodes["beta"]["version"] == hub.get("/api/v1/health").json()["version"]
    assert (nodes["alpha"]["alerts_firing"], nodes["beta"]["alerts_firing"]) == (0, None)  # beta: alerts off
    # The simulated driver's versions, as the node's own System Monitor view shows them; none without GPUs.
    assert (nodes["alpha"]["driver_version"], nodes["alpha"]["cuda_version"]) == ("550.54.15", "12.4")
    assert (nodes["hub"]["driver_version"], nodes["hub"]["cuda_version"]) == (None, None)
    snapshot = hub.get("/api/v1/fleet/nodes/alpha/snapshot").json()
    assert (snapshot["node"]["driver_version"], snapshot["node"]["cuda_version"]) == ("550.54.15", "12.4")


def test_the_gpu_list_filters_sorts_and_counts_across_nodes(
    hub: TestClient, make_node: NodeFactory, pg_url: str
) -> None:
    make_node("alpha", gpus=2, database_url=pg_url)
    make_node("beta", gpus=3, database_url=pg_url)
    wait_until(lambda: hub.get("/api/v1/fleet/gpus").json()["total"] == 5, "five GPUs")

    body = hub.get("/api/v1/fleet/gpus", params={"sort": "memory_free_gib", "order": "desc"}).json()
    assert FleetGPUsResponse.model_validate(body).total == 5, "the body is the documented model"
    default = hub.get("/api/v1/fleet/gpus").json()
    assert [(g["node"], g["gpu_id"]) for g in default["gpus"]][:3] == [
        ("alpha", 0),
        ("alpha", 1),
        ("beta", 0),
    ]
    free = [gpu["memory_free_gib"] for gpu in body["gpus"]]
    assert free == sorted(free, reverse=True) and len(free) == 5
    assert {(g["node"], g["gpu_id"]) for g in body["gpus"]} == {("alpha", 0), ("alpha", 1)} | {
        ("beta", i) for i in range(3)
    }
    first = body["gpus"][0]
    assert first["state"] == "ok" and first["node_status"] == "online"
    assert first["memory_total_gib"] > 0 and first["utilization_pct"] is not None

    only_beta = hub.get("/api/v1/fleet/gpus", params={"node": "beta"}).json()
    assert only_beta["total"] == 3 and {g["node"] for g in only_beta["gpus"]} == {"beta"}
    threshold = free[2]
    roomy = hub.get("/api/v1/fleet/gpus", params={"min_free_gb": threshold}).json()
    assert all(g["memory_free_gib"] >= threshold for g in roomy["gpus"]) and roomy["total"] >= 1
    assert hub.get("/api/v1/fleet/gpus", params={"state": "lost"}).json()["total"] == 0
    model = first["name"].split()[-1]
    assert hub.get("/api/v1/fleet/gpus", params={"model": model.lower()}).json()["total"] >= 1
    page = hub.get("/api/v1/fleet/gpus", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and len(page["gpus"]) == 2

    users = {user for gpu in body["gpus"] for user in gpu["users"]}
    assert users, "the simulated GPUs run processes of named users"


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"sort": "colour"}, "sort"),
        ({"min_free_gb": "-1"}, "min_free_gb"),
        ({"limit": "0"}, "limit"),
        ({"state": "melted"}, "state"),
        ({"node": "nowhere"}, "nowhere"),
    ],
)
def test_bad_parameters_get_one_clear_line(hub: TestClient, params: dict[str, str], problem: str) -> None:
    response = hub.get("/api/v1/fleet/gpus", params=params)
    assert response.status_code in (404, 422)
    detail = response.json()["detail"]
    assert problem in detail and "\n" not in detail and "Traceback" not in detail


def test_a_nodes_snapshot_has_the_shape_of_its_own_system_view(
    hub: TestClient, make_node: NodeFactory, pg_url: str, tmp_path: Path
) -> None:
    alpha = make_node("alpha", gpus=2, database_url=pg_url)
    wait_until(lambda: "alpha" in nodes_by_name(hub), "alpha")
    with make_client(alpha.settings, alpha) as local:
        own = wait_until(
            lambda: (r := local.get("/api/v1/system/gpus")).status_code == 200 and r.json(), "gpus"
        )
        own_system = local.get("/api/v1/system/metrics").json()
    remote = hub.get("/api/v1/fleet/nodes/alpha/snapshot").json()
    assert set(own) <= set(remote)
    assert remote["node"]["name"] == "alpha" and remote["node"]["id"] == alpha.node.id
    assert [g["gpu_id"] for g in remote["gpus"]] == [g["gpu_id"] for g in own["gpus"]]
    assert set(own["gpus"][0]) == set(remote["gpus"][0]), "the same fields, missing readings as null"
    assert remote["system_metrics"]["cpu"]["core_count"] == own_system["cpu"]["core_count"]
    assert hub.get(f"/api/v1/fleet/nodes/{alpha.node.id}/snapshot").json()["node"]["name"] == "alpha"
    missing = hub.get("/api/v1/fleet/nodes/omega/snapshot")
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_node"


def test_the_stream_of_a_chosen_node_pushes_its_new_states(
    hub: TestClient, make_node: NodeFactory, pg_url: str
) -> None:
    make_node("alpha", gpus=2, database_url=pg_url)
    make_node("beta", gpus=1, database_url=pg_url)
    wait_until(lambda: {"alpha", "beta"} <= set(nodes_by_name(hub)), "two nodes")
    with hub.websocket_connect("/api/v1/stream?node=beta") as socket:
        frames = [orjson.loads(socket.receive_text()) for _ in range(4)]
    snapshots = [f for f in frames if f["type"] == "snapshot"]
    assert {f["node"] for f in snapshots} == {"beta"}
    assert all(len(f["gpus"]) == 1 and "system_metrics" in f for f in snapshots)
    heartbeats = [f["heartbeat"] for f in snapshots]
    assert heartbeats == sorted(heartbeats) and len(set(heartbeats)) == len(heartbeats) >= 3


def test_a_chosen_node_streams_incrementally_and_resyncs_on_request(
    hub: TestClient, make_node: NodeFactory, pg_url: str
) -> None:
    make_node("alpha", gpus=2, database_url=pg_url)
    wait_until(lambda: "alpha" in nodes_by_name(hub), "alpha")
    with hub.websocket_connect("/api/v1/stream?node=alpha&mode=delta") as socket:
        frames = [orjson.loads(socket.receive_text()) for _ in range(3)]
        socket.send_text('{"type": "resync"}')
        after = [orjson.loads(socket.receive_text()) for _ in range(2)]
    assert [f["type"] for f in frames] == ["snapshot", "delta", "delta"]
    state = frames[0]
    for delta in frames[1:]:
        assert delta["base_seq"] == state["seq"]
        state = json_delta.apply(state, delta["patch"])
        assert state["seq"] == delta["seq"] and state["node"] == "alpha"
    assert len(state["gpus"]) == 2 and state["heartbeat"] > frames[0]["heartbeat"]
    resynced = next(f for f in after if f["type"] == "snapshot")
    assert resynced["seq"] >= state["seq"] and resynced["node"] == "alpha"


def test_a_hub_without_a_shared_database_shows_this_node_alone(tmp_path: Path) -> None:
    settings = fleet_settings(tmp_path, node_name="solo", hub=True, simulate_gpus=2)
    with make_client(settings) as client:
        body = wait_until(lambda: client.get("/api/v1/fleet/gpus").json().get("total"), "GPUs")
        assert body == 2
        nodes = client.get("/api/v1/fleet/nodes").json()["nodes"]
        assert [(n["name"], n["status"], n["gpu_count"]) for n in nodes] == [("solo", "online", 2)]
        snapshot = client.get("/api/v1/fleet/nodes/solo/snapshot").json()
        assert len(snapshot["gpus"]) == 2


def test_an_instance_that_is_not_a_hub_says_how_to_become_one(tmp_path: Path) -> None:
    settings = fleet_settings(tmp_path, simulate_gpus=1)
    with make_client(settings) as client:
        for path in ("/api/v1/fleet/nodes", "/api/v1/fleet/gpus", "/api/v1/fleet/targets"):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["error"] == "not_a_hub"
            assert "--hub" in response.json()["detail"]


def test_a_database_outage_never_stalls_the_sampler_and_the_newest_state_wins(
    hub: TestClient, make_node: NodeFactory, pg_url: str
) -> None:
    address = psycopg.conninfo.conninfo_to_dict(pg_url)
    proxy = TCPProxy(str(address.get("host", "127.0.0.1")), int(address.get("port", 5432)))
    proxy.start()
    proxied = pg_url.replace(f":{address.get('port', 5432)}/", f":{proxy.port}/")
    node: Service = make_node("alpha", gpus=1, database_url=proxied)
    first = wait_until(lambda: nodes_by_name(hub).get("alpha"), "alpha")
    proxy.cut()
    seq = node.sampler.latest.seq if node.sampler.latest else 0
    wait_until(lambda: nodes_by_name(hub)["alpha"]["status"] != "online", "alpha to go quiet")
    assert node.sampler.latest is not None and node.sampler.latest.seq > seq + 5, "the sampler kept going"
    assert node.fleet.publisher is not None and node.fleet.publisher.failures > 0
    proxy.start()
    back = wait_until(
        lambda: (n := nodes_by_name(hub)["alpha"])["status"] == "online" and n, "alpha back", timeout_s=30
    )
    assert back["last_seen"] > first["last_seen"] + 1
    proxy.cut()


def test_fleet_reads_need_a_token_and_targets_follow_the_metrics_rule(tmp_path: Path, pg_url: str) -> None:
    from tests.api.conftest import VIEWER, bearer, secured_service

    for public_metrics in (False, True):
        settings = fleet_settings(
            tmp_path / str(public_metrics),
            hub=True,
            database_url=pg_url,
            anonymous_read=False,
            public_metrics=public_metrics,
        )
        with make_client(settings, secured_service(settings)) as client:
            assert client.get("/api/v1/fleet/nodes").status_code == 401
            assert client.get("/api/v1/fleet/gpus").status_code == 401
            targets = client.get("/api/v1/fleet/targets")
            assert targets.status_code == (200 if public_metrics else 401)
            headers = bearer(client, VIEWER)
            answers = [answer(client, path, headers) for path in ("nodes", "gpus", "targets")]
            assert all("postgres" not in answer.text for answer in answers), "no database URL leaks"


def answer(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    """The first answer of /api/v1/fleet/PATH that lists a node."""
    url = f"/api/v1/fleet/{path}"
    return wait_until(
        lambda: (r := client.get(url, headers=headers)).status_code == 200 and "node" in r.text and r, url
    )


def test_a_hub_repairs_what_a_lost_notification_left_behind(pg_url: str) -> None:
    from gpu_sentinel.fleet.hub import FleetHub
    from gpu_sentinel.fleet.live import LiveRecord
    from gpu_sentinel.node import NodeIdentity
    from gpu_sentinel.store.postgres import PostgresDatabase
    from tests.store.helpers import gpu, snapshot

    database = PostgresDatabase(pg_url)
    database.migrate()
    database.close()
    hub = FleetHub(pg_url, reload_interval_s=0.2)
    hub.start()
    try:
        wait_until(hub.listening.is_set, "the hub to connect")
        record = LiveRecord.of(
            snapshot(1, 100.0, [gpu(0)]),
            NodeIdentity("b" * 32, "quiet"),
            version="1",
            metrics_url="http://x:1/metrics",
            alerts_firing=None,
        )
        insert = (
            "INSERT INTO node_live (node_id, name, version, metrics_url, gpu_count, alerts_firing, heartbeat,"
            " state) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        )
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(insert.encode(), record.params())  # no NOTIFY: as if it were lost
            wait_until(lambda: "b" * 32 in hub.nodes, "the hub to notice the row without a notification")
            connection.execute(b"DELETE FROM node_live")
            wait_until(lambda: "b" * 32 not in hub.nodes, "the hub to forget the deleted node")
    finally:
        hub.stop()
