"""The fleet API's answers, built from a fleet's in-memory nodes: node summaries, the filtered and sorted
GPU list, one node's snapshot and the Prometheus targets. Pure functions of the nodes and a clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import orjson

from gpu_sentinel.errors import SentinelError
from gpu_sentinel.fleet.live import GPUState, NodeLive, NodeStatus, StatusBounds, with_status

GPUSortKey = Literal[
    "node",
    "gpu_id",
    "name",
    "state",
    "utilization_pct",
    "memory_used_gib",
    "memory_free_gib",
    "memory_total_gib",
    "temperature_c",
    "power_w",
    "processes",
]
GPU_SORT_KEYS: tuple[str, ...] = get_args(GPUSortKey)


class UnknownNodeError(SentinelError):
    status_code = 404
    code = "unknown_node"

    def __init__(self, node: str, known: Iterable[str]) -> None:
        names = sorted(known)
        listed = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        super().__init__(f"No node is named or has the id {node!r}; known nodes: {listed or 'none'}")


def node_summary(node: NodeLive, bounds: StatusBounds, now: float) -> dict[str, Any]:
    record = node.record
    return {
        "id": record.node_id,
        "name": record.name,
        "status": bounds.status(record.heartbeat, now),
        "last_seen": record.heartbeat,
        "last_seen_age_s": round(max(0.0, now - record.heartbeat), 3),
        "gpu_count": record.gpu_count,
        "alerts_firing": record.alerts_firing,
        "version": record.version,
        "driver_version": node.driver_version,
        "cuda_version": node.cuda_version,
    }


def node_summaries(nodes: Mapping[str, NodeLive], bounds: StatusBounds, now: float) -> list[dict[str, Any]]:
    ordered = sorted(nodes.values(), key=lambda n: (n.name, n.id))
    return [node_summary(node, bounds, now) for node in ordered]


def find_node(nodes: Mapping[str, NodeLive], wanted: str) -> NodeLive:
    """By id, else by name (names are meant to be unique; the newest heartbeat wins if not)."""
    found = nodes.get(wanted)
    if found is not None:
        return found
    named = [node for node in nodes.values() if node.name == wanted]
    if not named:
        raise UnknownNodeError(wanted, (node.name for node in nodes.values()))
    return max(named, key=lambda node: node.record.heartbeat)


@dataclass(frozen=True, slots=True)
class GPUFilter:
    nodes: frozenset[str] | None = None
    """Names or ids."""
    model: str | None = None
    """Case-insensitive part of the GPU's name."""
    state: GPUState | None = None
    min_free_gib: float | None = None
    sort: GPUSortKey = "node"
    descending: bool = False
    limit: int = 10_000
    offset: int = 0

    @property
    def everything(self) -> bool:
        """No filter, node order, from the first GPU: the whole list, as the overview asks for it."""
        return (
            self.nodes is None
            and self.model is None
            and self.state is None
            and self.min_free_gib is None
            and self.sort == "node"
            and not self.descending
            and self.offset == 0
        )


GPURow = tuple[dict[str, Any], bytes, NodeStatus]
"""A GPU's key metrics, the same as JSON less its node's status, and that status."""


def fleet_gpus(
    nodes: Mapping[str, NodeLive], query: GPUFilter, bounds: StatusBounds, now: float
) -> tuple[int, list[GPURow]]:
    """(how many match, the requested page of them). Missing readings sort last either way."""
    if query.nodes is not None:
        known = {n.id for n in nodes.values()} | {n.name for n in nodes.values()}
        for wanted in sorted(query.nodes - known):
            raise UnknownNodeError(wanted, (n.name for n in nodes.values()))
    model = query.model.lower() if query.model else None
    by_node = query.sort == "node" and not query.descending
    rows: list[GPURow] = []
    for node in _by_name(nodes) if by_node else nodes.values():
        if query.nodes is not None and node.id not in query.nodes and node.name not in query.nodes:
            continue
        status = bounds.status(node.record.heartbeat, now)
        for gpu, body in zip(node.gpus, node.gpu_json, strict=True):
            if query.state is not None and gpu["state"] != query.state:
                continue
            if model is not None and model not in (gpu["name"] or "").lower():
                continue
            if query.min_free_gib is not None and (gpu["memory_free_gib"] or 0.0) < query.min_free_gib:
                continue
            rows.append((gpu, body, status))
    if not by_node:
        rows = _sorted(rows, query.sort, query.descending)
    return len(rows), rows[query.offset : query.offset + query.limit]


def _by_name(nodes: Mapping[str, NodeLive]) -> list[NodeLive]:
    return sorted(nodes.values(), key=lambda n: (n.name, n.id))


def _sorted(rows: list[GPURow], key: str, descending: bool) -> list[GPURow]:
    present = [r for r in rows if r[0][key] is not None]
    missing = [r for r in rows if r[0][key] is None]
    present.sort(key=lambda r: (r[0][key], r[0]["node"], r[0]["gpu_id"]), reverse=descending)
    missing.sort(key=lambda r: (r[0]["node"], r[0]["gpu_id"]))
    return present + missing


def gpus_body(nodes: Mapping[str, NodeLive], query: GPUFilter, bounds: StatusBounds, now: float) -> bytes:
    """The ``FleetGPUsResponse`` body. The whole list (when it fits the limit) is joined from each
    node's ready rows; anything else is filtered GPU by GPU."""
    if query.everything:
        ordered = _by_name(nodes)
        total = sum(len(node.gpu_json) for node in ordered)
        if total <= query.limit:
            parts = [node.rows_json(bounds.status(node.record.heartbeat, now)) for node in ordered]
            return _body(now, total, [part for part in parts if part])
    total, rows = fleet_gpus(nodes, query, bounds, now)
    return _body(now, total, [with_status(body, status) for _, body, status in rows])


def _body(timestamp: float, total: int, parts: list[bytes]) -> bytes:
    head = b'{"timestamp":' + orjson.dumps(timestamp) + b',"total":' + str(total).encode() + b',"gpus":['
    return head + b",".join(parts) + b"]}"


def node_snapshot(node: NodeLive, bounds: StatusBounds, now: float) -> dict[str, Any]:
    state = node.state()
    return {
        "node": node_summary(node, bounds, now),
        "gpu_available": state.get("gpu_available", False),
        "gpu_status": state.get("gpu_status", "ok"),
        "timestamp": node.timestamp,
        "gpus": state.get("gpus", []),
        "gpu_processes": state.get("gpu_processes", []),
        "system_metrics": state.get("system_metrics", {}),
        "storage": state.get("storage", []),
    }


def targets(nodes: Mapping[str, NodeLive], bounds: StatusBounds, now: float) -> list[dict[str, Any]]:
    """Prometheus HTTP SD groups for every online or stale node (an offline one would only be down)."""
    groups = []
    for node in sorted(nodes.values(), key=lambda n: (n.name, n.id)):
        if bounds.status(node.record.heartbeat, now) == "offline":
            continue
        url = urlsplit(node.record.metrics_url)
        if not url.hostname:
            continue
        groups.append(
            {
                "targets": [url.netloc.rpartition("@")[2]],
                "labels": {
                    "node": node.name,
                    "node_id": node.id,
                    "__scheme__": url.scheme or "http",
                    "__metrics_path__": url.path or "/metrics",
                },
            }
        )
    return groups
