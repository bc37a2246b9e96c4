"""The history API of one node in a shared database: ``node=`` reads another node's history, usage of
``node=all`` covers the fleet, and an unknown node is a 400 naming the known ones."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.api.conftest import make_client
from tests.store.helpers import feed, gpu, process

History = tuple[TestClient, int]


def node_service(database_url: str, data_dir: Path, name: str) -> Service:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        node_name=name,
        history_cache_ttl=0,
        alerts_enabled=False,
        rate_limit=0,
    )  # type: ignore[call-arg]
    return Service(settings, gpu_source=SimulatedGPUs(2, seed=3, xid_mean_interval_s=1e12))


@pytest.fixture
def fleet(database_url: str, tmp_path: Path) -> Iterator[History]:
    """alpha's API over a database that beta writes to as well; both hold 2 known minutes."""
    start = (int(time.time()) // 60 - 15) * 60
    alpha = node_service(database_url, tmp_path / "alpha", "alpha")
    beta = node_service(database_url, tmp_path / "beta", "beta")
    beta.start()
    try:
        with make_client(alpha.settings, alpha) as client:
            feed(alpha.store, start, 120, lambda ts: [gpu(0, util=30.0, processes=[process(5, "alice")])], 1)
            feed(beta.store, start, 120, lambda ts: [gpu(0, util=80.0, processes=[process(6, "bob")])], 1)
            yield client, start
    finally:
        beta.stop()


def test_trends_and_export_read_the_named_node(fleet: History) -> None:
    client, start = fleet
    params = {"metric": "gpu_utilization", "gpu_id": 0, "start": start, "end": start + 120, "bucket": 60}
    own = client.get("/api/v1/history/trends", params=params).json()
    assert [series["avg"] for series in own["series"]] == [[30.0, 30.0]]
    other = client.get("/api/v1/history/trends", params={**params, "node": "beta"}).json()
    assert (other["node"], [series["avg"] for series in other["series"]]) == ("beta", [[80.0, 80.0]])
    csv = client.get("/api/v1/history/export", params={**params, "node": "beta"}).text.splitlines()
    assert [line.split(",")[5] for line in csv[1:]] == ["80.0", "80.0"]


def test_usage_of_the_whole_fleet_says_whose_each_row_is(fleet: History) -> None:
    client, start = fleet
    window = {"start": start, "end": start + 120}
    own = client.get("/api/v1/history/usage", params=window).json()
    assert [(item["node"], item["user"]) for item in own["processes"]] == [("alpha", "alice")]
    body = client.get("/api/v1/history/usage", params={**window, "node": "all"}).json()
    assert sorted((item["node"], item["gpu_id"]) for item in body["gpus"]) == [("alpha", 0), ("beta", 0)]
    assert sorted((item["user"], item["nodes"]) for item in body["users"]) == [
        ("alice", ["alpha"]),
        ("bob", ["beta"]),
    ]
    assert sorted((item["node"], item["pid"]) for item in body["processes"]) == [("alpha", 5), ("beta", 6)]


def test_the_catalog_lists_every_node_with_history(fleet: History) -> None:
    client, _ = fleet
    body = client.get("/api/v1/history/metrics").json()
    assert [(node["name"], node["local"], node["gpus"]) for node in body["nodes"]] == [
        ("alpha", True, [0, 1]),
        ("beta", False, [0, 1]),
    ]
    assert body["node"] == next(node["id"] for node in body["nodes"] if node["local"])


@pytest.mark.parametrize("path", ["trends", "usage", "export"])
def test_an_unknown_node_is_a_400_listing_the_known_ones(fleet: History, path: str) -> None:
    client, _ = fleet
    response = client.get(f"/api/v1/history/{path}", params={"node": "gamma"})
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "unknown_node"
    assert "'gamma'" in error["detail"] and "alpha (" in error["detail"] and "beta (" in error["detail"]
