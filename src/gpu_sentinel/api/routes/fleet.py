"""The fleet API of a hub (``serve --hub``): every node sharing the database, from the hub's memory.

Routes are plain functions, run in the thread pool: the in-memory fleet costs them no database round
trip, and on SQLite the single local node is rendered there, never on the event loop.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gpu_sentinel import models
from gpu_sentinel.alerts.errors import AlertObjectNotFoundError
from gpu_sentinel.api.deps import AdminDep
from gpu_sentinel.api.routes.alerts import AckRequest, AlertsDep
from gpu_sentinel.errors import InvalidRequestError, SentinelError
from gpu_sentinel.fleet import query
from gpu_sentinel.fleet.live import GPUState
from gpu_sentinel.fleet.models import (
    FleetAlert,
    FleetAlertsResponse,
    FleetGPUsResponse,
    FleetNodesResponse,
    NodeSnapshotResponse,
    TargetGroup,
)
from gpu_sentinel.fleet.service import Fleet, FleetSource

router = APIRouter(prefix="/api/v1/fleet", tags=["fleet"])
MAX_NODES_FILTER = 1000

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": models.ErrorResponse, "description": "Not a hub (not_a_hub), or no such node."},
    422: {"model": models.ErrorResponse, "description": "Malformed parameter."},
}
ALERT_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.ErrorResponse, "description": "A token is needed."},
    403: {"model": models.ErrorResponse, "description": "Only admins acknowledge alerts."},
    404: {"model": models.ErrorResponse, "description": "Not a hub (not_a_hub), or no such active alert."},
    503: {"model": models.ErrorResponse, "description": "Alerting is off, or its database is unavailable."},
}


class NotAHubError(SentinelError):
    status_code = 404
    code = "not_a_hub"

    def __init__(self) -> None:
        super().__init__(
            "This instance is not a fleet hub; start it with `gpu-sentinel serve --hub` "
            "(or GPU_SENTINEL_HUB=true) to serve /api/v1/fleet/*"
        )


def get_fleet(request: Request) -> tuple[Fleet, FleetSource]:
    fleet: Fleet = request.app.state.service.fleet
    if fleet.source is None:
        raise NotAHubError()
    return fleet, fleet.source


FleetDep = Annotated[tuple[Fleet, FleetSource], Depends(get_fleet)]
NodePath = Annotated[str, Path(min_length=1, max_length=64, description="Node name or id.")]


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/nodes", response_model=FleetNodesResponse, responses=ERRORS)
def fleet_nodes(fleet: FleetDep) -> Response:
    """Every node: status (online / stale / offline by heartbeat age), last seen, GPUs, firing alerts."""
    owner, source = fleet
    now = time.time()
    hub = {
        "node": owner.node.name,
        "evaluates_fleet_alerts": owner.alerts is not None and owner.alerts.leading,
    }
    nodes = query.node_summaries(source.nodes, owner.bounds, now)
    return _json({"timestamp": now, "hub": hub, "nodes": nodes})


def _node_names(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    names = frozenset(item.strip() for item in text.split(",") if item.strip())
    if not names or len(names) > MAX_NODES_FILTER:
        raise InvalidRequestError(
            f"node: expected 1 to {MAX_NODES_FILTER} comma-separated node names or ids (got {text[:80]!r})"
        )
    return names


@router.get("/gpus", response_model=FleetGPUsResponse, responses=ERRORS)
def fleet_gpus(
    fleet: FleetDep,
    *,
    node: Annotated[
        str | None, Query(max_length=65_000, description="Comma-separated node names or ids.")
    ] = None,
    model: Annotated[
        str | None, Query(min_length=1, max_length=120, description="Part of the GPU model name.")
    ] = None,
    state: Annotated[GPUState | None, Query(description="ok, unresponsive or lost.")] = None,
    min_free_gb: Annotated[
        float | None, Query(ge=0, le=100_000, description="At least this much free memory (GiB).")
    ] = None,
    sort: Annotated[
        query.GPUSortKey, Query(description="Field to sort by; missing readings always come last.")
    ] = "node",
    order: Annotated[str, Query(pattern="^(asc|desc)$", description="asc or desc.")] = "asc",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Every GPU of every node with its key metrics; filter to find free GPUs (``min_free_gb``), trouble
    (``state``) or a model, and sort by any metric."""
    owner, source = fleet
    now = time.time()
    wanted = query.GPUFilter(
        nodes=_node_names(node),
        model=model,
        state=state,
        min_free_gib=min_free_gb,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return Response(query.gpus_body(source.nodes, wanted, owner.bounds, now), media_type="application/json")


@router.get("/nodes/{node}/snapshot", response_model=NodeSnapshotResponse, responses=ERRORS)
def node_snapshot(fleet: FleetDep, node: NodePath) -> Response:
    """A node's latest snapshot in the shape of ``/api/v1/system/gpus``, plus its host and storage: what
    the System Monitor view of that node needs."""
    owner, source = fleet
    found = query.find_node(source.nodes, node)
    return _json(query.node_snapshot(found, owner.bounds, time.time()))


@router.get("/targets", response_model=list[TargetGroup], responses=ERRORS)
def prometheus_targets(fleet: FleetDep) -> Response:
    """Prometheus / VictoriaMetrics HTTP service discovery: every online or stale node's ``/metrics``.
    Readable without a token exactly when ``/metrics`` is (GPU_SENTINEL_PUBLIC_METRICS)."""
    owner, source = fleet
    return _json(query.targets(source.nodes, owner.bounds, time.time()))


@router.get("/alerts", response_model=FleetAlertsResponse, responses=ALERT_ERRORS)
def fleet_alerts(fleet: FleetDep, _: AlertsDep) -> Response:
    """The fleet alerts firing now ("Node offline", "GPU unresponsive"), then every node's own firing
    alerts, with acknowledgement and silence status; the same on every hub, whichever evaluates the
    fleet rules. None on SQLite."""
    owner, _source = fleet
    active = [] if owner.alerts is None else owner.alerts.active()
    return _json({"alerts": active, "count": len(active), "hub_node_id": owner.node.id})


@router.post("/alerts/{alert_id:path}/ack", response_model=FleetAlert, responses=ALERT_ERRORS)
def acknowledge_fleet_alert(
    fleet: FleetDep,
    _: AlertsDep,
    admin: AdminDep,
    alert_id: Annotated[str, Path(max_length=200, description="An alert's id, as listed.")],
    __: Annotated[AckRequest | None, Body()] = None,
) -> Response:
    """Acknowledge an active alert on any hub, a fleet alert or a node's own: it stops repeating until
    it resolves, also after a hub failover; its node takes up an acknowledgement of its own alert within
    seconds."""
    owner, _source = fleet
    if owner.alerts is None:
        raise AlertObjectNotFoundError("alert", alert_id)
    return _json(owner.alerts.acknowledge(alert_id, admin.username))
