"""One node's live state: the compact JSON a node writes for its latest snapshot, and what a hub makes
of it once (the fleet GPU rows), so that requests only filter what is already built.

The JSON uses the API's own renderings (``views``), so a node's state read back from the database has
exactly the shape of ``/api/v1/system/gpus`` plus the host.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from gpu_sentinel import views
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import Snapshot

NodeStatus = Literal["online", "stale", "offline"]
GPUState = Literal["ok", "unresponsive", "lost"]


def render_state(snapshot: Snapshot) -> bytes:
    """The snapshot as compact JSON (no whitespace; PostgreSQL compresses the repetitive rest)."""

    def dump(model: Any) -> Any:
        return model.model_dump(mode="json")

    driver_version, cuda_version = host_versions(snapshot)
    return orjson.dumps(
        {
            "timestamp": snapshot.timestamp,
            "gpu_available": snapshot.gpu_available,
            "gpu_status": snapshot.gpu_status,
            "driver_version": driver_version,
            "cuda_version": cuda_version,
            "gpus": [dump(views.gpu_metrics(sample)) for sample in snapshot.gpus],
            "gpu_processes": [
                dump(views.gpu_process(process, sample.index))
                for sample in snapshot.gpus
                for process in sample.processes
            ],
            "system_metrics": dump(views.system_metrics(snapshot.host, snapshot.timestamp)),
            "storage": [dump(item) for item in views.storage(snapshot.host)],
        }
    )


def host_versions(snapshot: Snapshot) -> tuple[str | None, str | None]:
    """The node's driver and CUDA versions, one per host (every GPU reports the same), as its first GPU
    that knows them says; (None, None) without GPUs."""
    for sample in snapshot.gpus:
        if sample.info.driver_version or sample.info.cuda_version:
            return sample.info.driver_version, sample.info.cuda_version
    return None, None


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """One row of ``node_live``: what a node says about itself."""

    node_id: str
    name: str
    version: str
    metrics_url: str
    gpu_count: int
    alerts_firing: int | None
    heartbeat: float
    """The node's clock (Unix seconds) when it wrote the row: nodes and hubs need synchronised clocks."""
    state: bytes

    @classmethod
    def of(
        cls,
        snapshot: Snapshot,
        node: NodeIdentity,
        *,
        version: str,
        metrics_url: str,
        alerts_firing: int | None,
        now: float | None = None,
    ) -> LiveRecord:
        return cls(
            node.id,
            node.name,
            version,
            metrics_url,
            len(snapshot.gpus),
            alerts_firing,
            time.time() if now is None else now,
            render_state(snapshot),
        )

    def params(self) -> tuple[Any, ...]:
        state = self.state.decode()
        return (
            self.node_id,
            self.name,
            self.version,
            self.metrics_url,
            self.gpu_count,
            self.alerts_firing,
            self.heartbeat,
            state,
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> LiveRecord:
        node_id, name, version, url, gpu_count, firing, heartbeat, state = row
        encoded = state.encode() if isinstance(state, str) else bytes(state)
        return cls(
            str(node_id),
            str(name),
            str(version),
            str(url),
            int(gpu_count),
            None if firing is None else int(firing),
            float(heartbeat),
            encoded,
        )


def gpu_state(gpu: dict[str, Any]) -> GPUState:
    if gpu.get("lost"):
        return "lost"
    if gpu.get("unresponsive"):
        return "unresponsive"
    return "ok"


def _key_metrics(node: LiveRecord, gpu: dict[str, Any], processes: list[dict[str, Any]]) -> dict[str, Any]:
    memory = gpu.get("memory") or {}
    users = sorted({p["user"] for p in processes if p.get("user")})
    return {
        "node": node.name,
        "node_id": node.node_id,
        "gpu_id": gpu["gpu_id"],
        "uuid": gpu.get("uuid"),
        "name": gpu.get("gpu_name"),
        "state": gpu_state(gpu),
        "utilization_pct": (gpu.get("utilization") or {}).get("gpu"),
        "memory_used_gib": memory.get("used_gb"),
        "memory_free_gib": memory.get("free_gb"),
        "memory_total_gib": memory.get("total_gb"),
        "temperature_c": gpu.get("temperature"),
        "power_w": (gpu.get("power") or {}).get("current_watts"),
        "processes": len(processes),
        "users": users,
    }


def with_status(row: bytes, status: NodeStatus) -> bytes:
    """A GPU row's JSON with its node's status as the first field."""
    return b'{"node_status":"' + status.encode() + b'",' + row[1:]


def join_rows(rows: Sequence[bytes], status: NodeStatus) -> bytes:
    return b",".join(with_status(row, status) for row in rows)


@dataclass(frozen=True, slots=True)
class NodeLive:
    """A hub's view of one node: its record and the node's fleet GPU rows, built once per update and
    never changed (readers on any thread share it). The full state stays JSON until a request for that
    node parses it: a thousand parsed states would cost the hub ten times the memory."""

    record: LiveRecord
    timestamp: float
    """When the node took the snapshot (Unix seconds)."""
    gpus: tuple[dict[str, Any], ...]
    gpu_json: tuple[bytes, ...]
    """Each GPU row as JSON, less its node's status (which depends on the time of the request)."""
    online_json: bytes
    """All of ``gpu_json`` as the rows of an online node, comma-joined: the unfiltered GPU list of a
    live fleet is a join of these, a thousand pieces rather than eight thousand."""
    driver_version: str | None
    cuda_version: str | None

    @classmethod
    def of(cls, record: LiveRecord) -> NodeLive:
        state = orjson.loads(record.state)
        by_gpu: dict[int, list[dict[str, Any]]] = {}
        for process in state.get("gpu_processes", ()):
            by_gpu.setdefault(process.get("gpu_id"), []).append(process)
        timestamp = float(state.get("timestamp", record.heartbeat))
        gpus = tuple(
            {**_key_metrics(record, g, by_gpu.get(g["gpu_id"], [])), "timestamp": timestamp}
            for g in sorted(state.get("gpus", ()), key=lambda g: g["gpu_id"])
        )
        # orjson's bytes keep their whole output buffer (8 KiB each); an exact copy is a twentieth.
        rows = tuple(bytes(memoryview(orjson.dumps(gpu))) for gpu in gpus)
        return cls(
            record,
            timestamp,
            gpus,
            rows,
            join_rows(rows, "online"),
            state.get("driver_version"),
            state.get("cuda_version"),
        )

    def rows_json(self, status: NodeStatus) -> bytes:
        """Every GPU row of this node with ``status`` put in, comma-joined."""
        return self.online_json if status == "online" else join_rows(self.gpu_json, status)

    def state(self) -> dict[str, Any]:
        """The node's full state, parsed anew on each call."""
        parsed: dict[str, Any] = orjson.loads(self.record.state)
        return parsed

    @property
    def id(self) -> str:
        return self.record.node_id

    @property
    def name(self) -> str:
        return self.record.name


@dataclass(frozen=True, slots=True)
class StatusBounds:
    """How old a heartbeat may be for a node to count as online, then stale; beyond, it is offline."""

    online_within_s: float
    offline_after_s: float

    def status(self, heartbeat: float, now: float) -> NodeStatus:
        age = now - heartbeat
        if age <= self.online_within_s:
            return "online"
        if age <= self.offline_after_s:
            return "stale"
        return "offline"
