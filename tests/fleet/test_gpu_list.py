"""The fleet GPU list's body: the whole list joined from each node's ready rows must read exactly like
the list filtered GPU by GPU, with every node's status as of the request."""

from __future__ import annotations

import orjson

from gpu_sentinel.fleet.live import LiveRecord, NodeLive, StatusBounds
from gpu_sentinel.fleet.models import FleetGPUsResponse
from gpu_sentinel.fleet.query import GPUFilter, gpus_body

BOUNDS = StatusBounds(online_within_s=1.0, offline_after_s=3.0)


def node(name: str, heartbeat: float, gpus: int) -> NodeLive:
    state = {
        "timestamp": heartbeat,
        "gpus": [
            {"gpu_id": i, "gpu_name": "H100", "memory": {"free_gb": 10.0 * i, "total_gb": 80.0}}
            for i in reversed(range(gpus))
        ],
        "gpu_processes": [{"gpu_id": 0, "pid": 7, "user": "ana"}],
    }
    node_id = (name.encode().hex() + "0" * 32)[:32]
    record = LiveRecord(node_id, name, "1", "http://x:1/metrics", gpus, 0, heartbeat, orjson.dumps(state))
    return NodeLive.of(record)


NODES = {n.id: n for n in (node("gamma", 95.0, 1), node("alpha", 100.0, 3), node("beta", 98.5, 2))}


def listed(query: GPUFilter, now: float = 100.5) -> dict[str, object]:
    body = orjson.loads(gpus_body(NODES, query, BOUNDS, now))
    FleetGPUsResponse.model_validate(body)
    return body


def test_the_whole_list_has_every_gpu_in_node_order_with_its_nodes_status_now() -> None:
    body = listed(GPUFilter())
    rows = [(g["node"], g["gpu_id"], g["node_status"]) for g in body["gpus"]]  # type: ignore[attr-defined]
    assert body["total"] == 6 and body["timestamp"] == 100.5
    assert rows == [
        ("alpha", 0, "online"),
        ("alpha", 1, "online"),
        ("alpha", 2, "online"),
        ("beta", 0, "stale"),
        ("beta", 1, "stale"),
        ("gamma", 0, "offline"),
    ]
    later = listed(GPUFilter(), now=103.0)
    assert [g["node_status"] for g in later["gpus"]] == ["stale"] * 3 + ["offline"] * 3  # type: ignore[attr-defined]


def test_the_whole_list_reads_like_the_same_list_filtered_gpu_by_gpu() -> None:
    whole = listed(GPUFilter())
    filtered = listed(GPUFilter(min_free_gib=0.0))
    assert whole == filtered
    assert whole["gpus"][0]["users"] == ["ana"] and whole["gpus"][0]["processes"] == 1  # type: ignore[index]


def test_a_limit_below_the_fleet_still_pages_and_counts_every_gpu() -> None:
    page = listed(GPUFilter(limit=2))
    assert page["total"] == 6
    assert [(g["node"], g["gpu_id"]) for g in page["gpus"]] == [("alpha", 0), ("alpha", 1)]  # type: ignore[attr-defined]
