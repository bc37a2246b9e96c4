"""Response bodies of the fleet API (``/api/v1/fleet/*``), documented for the dashboard's Fleet page.

Units live in the names (``_gib`` is 2^30 bytes, ``_pct`` percent, ``_c`` degrees Celsius, ``_w`` watts).
A reading a GPU does not report is null, never 0.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gpu_sentinel import models
from gpu_sentinel.alerts.rules import Condition, Severity

NodeStatusField = Literal["online", "stale", "offline"]
GPUStateField = Literal["ok", "unresponsive", "lost"]


class FleetNode(BaseModel):
    """One node of the fleet as the hub last heard of it."""

    id: str = Field(description="The node's stable id (32 hex digits, kept in its data directory).")
    name: str = Field(description="The node's name (GPU_SENTINEL_NODE_NAME, default its host name).")
    status: NodeStatusField = Field(
        description="online: heartbeat within GPU_SENTINEL_FLEET_ONLINE_WITHIN_S; stale: within "
        "GPU_SENTINEL_FLEET_OFFLINE_AFTER_S; offline: older."
    )
    last_seen: float = Field(description="Unix seconds of the node's last heartbeat.")
    last_seen_age_s: float = Field(description="Seconds since the last heartbeat, by the hub's clock.")
    gpu_count: int = Field(description="GPUs in the node's latest snapshot, lost ones included.")
    alerts_firing: int | None = Field(description="The node's own alerts firing now; null if unknown.")
    version: str = Field(description="The node's GPU Sentinel version.")
    driver_version: str | None = Field(description="The node's NVIDIA driver version; null if unknown.")
    cuda_version: str | None = Field(
        description="The CUDA version its driver supports (e.g. 12.4); null if unknown."
    )


class HubInfo(BaseModel):
    node: str = Field(description="The name of the hub that answered (a hub is a node too).")
    evaluates_fleet_alerts: bool = Field(
        description="Whether this hub holds the fleet-alerts lock: exactly one hub evaluates the fleet "
        "rules at a time."
    )


class FleetNodesResponse(BaseModel):
    timestamp: float = Field(description="When the hub answered (Unix seconds).")
    hub: HubInfo
    nodes: list[FleetNode] = Field(description="Every node, by name.")


class FleetGPU(BaseModel):
    """One GPU of one node: the key metrics of its node's latest snapshot."""

    node: str = Field(description="Name of the node the GPU is in.")
    node_id: str
    node_status: NodeStatusField = Field(description="Its node's status (see FleetNode.status).")
    gpu_id: int = Field(description="The GPU's index on its node.")
    uuid: str | None
    name: str | None = Field(description="Model, as the driver names it.")
    state: GPUStateField = Field(
        description="ok, unresponsive (driver calls time out) or lost (off the bus)."
    )
    utilization_pct: float | None
    memory_used_gib: float | None
    memory_free_gib: float | None
    memory_total_gib: float | None
    temperature_c: float | None
    power_w: float | None
    processes: int = Field(description="Processes using the GPU.")
    users: list[str] = Field(description="Distinct users of those processes, sorted.")
    timestamp: float = Field(description="When the node sampled it (Unix seconds).")


class FleetGPUsResponse(BaseModel):
    timestamp: float = Field(description="When the hub answered (Unix seconds).")
    total: int = Field(description="GPUs that match the filters, before limit and offset.")
    gpus: list[FleetGPU]


class NodeSnapshotResponse(models.AllGPUsResponse):
    """A node's latest snapshot in the shape of ``/api/v1/system/gpus``, with its host and node."""

    node: FleetNode
    gpu_status: str = Field(description="Why GPUs are unavailable when they are, else 'ok'.")
    system_metrics: models.SystemMetrics
    storage: list[models.StorageInfo]


class TargetGroup(BaseModel):
    """One entry of Prometheus' HTTP service discovery format."""

    targets: list[str] = Field(description="host:port of the node's /metrics.")
    labels: dict[str, str] = Field(
        description="node, node_id, and __scheme__ / __metrics_path__ from the advertised URL."
    )


class FleetAlert(BaseModel):
    """A fleet alert, or a node's own alert, firing now: the fields of a node's own active alert, plus
    the node it is about and which of the two it is."""

    id: str = Field(
        description="``<rule_id>:<node>`` or ``<rule_id>:<node>/gpu<N>`` (a fleet alert, for the ack "
        "route); ``<rule_id>:<node>/host`` or ``<rule_id>:<node>/gpu<N>`` (a node's own alert)."
    )
    source: Literal["fleet", "node"] = Field(
        description="fleet: a fleet rule, evaluated by a hub, acknowledged on any hub; node: the node's "
        "own rule, evaluated and acknowledged on that node."
    )
    rule_id: str
    rule_name: str
    metric: str
    unit: str
    severity: Severity
    node: str = Field(description="Name of the node the alert is about.")
    node_id: str
    instance: str = Field(
        description="The node's name (fleet alerts), ``<node>/host`` (a node's own host alert), or "
        "``<node>/gpu<N>`` for one of its GPUs."
    )
    gpu_id: int | None = Field(description="The GPU's index on its node; null for the node itself.")
    state: Literal["pending", "firing"]
    value: float | None = Field(
        description="Seconds since the last heartbeat (node offline), 1 (GPU unresponsive), or a node's "
        "own alert's reading as its node last saved it."
    )
    threshold: float
    condition: Condition
    active_since: str | None = Field(description="ISO 8601.")
    fired_at: str | None = Field(description="ISO 8601.")
    notified: bool
    acknowledged: bool = Field(description="Acknowledged alerts stop repeating until they resolve.")
    acknowledged_by: str | None
    acknowledged_at: str | None = Field(description="ISO 8601.")
    silenced: bool


class FleetAlertsResponse(BaseModel):
    alerts: list[FleetAlert] = Field(description="The fleet alerts, then every node's own, by node.")
    count: int
    hub_node_id: str = Field(
        description="The answering hub's node id: its own alerts are also in its /api/v1/alerts."
    )
