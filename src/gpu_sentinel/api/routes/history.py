"""History API: trends with avg/min/max per bucket, usage by GPU, user and process, streamed export.

Every endpoint is a plain function, so FastAPI runs it on its thread pool and the database never blocks
the event loop; answers are serialised with orjson straight from the store's records.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from gpu_sentinel import models
from gpu_sentinel.api import history_models
from gpu_sentinel.api.deps import ServiceDep
from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store.errors import HistoryUnavailableError
from gpu_sentinel.store.export import MEDIA_TYPES
from gpu_sentinel.store.metrics import CHART_METRICS, GPU_METRICS, HOST_METRICS
from gpu_sentinel.store.query import MAX_POINTS, RANGE_PRESETS_S, auto_bucket, window

router = APIRouter(prefix="/api/v1/history", tags=["history"])

RangePreset = Literal["1h", "6h", "24h", "7d", "30d"]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.ErrorResponse, "description": "Unknown metric, GPU or node."},
    422: {"model": models.ErrorResponse, "description": "Bad range or parameter, or too many points."},
    503: {"model": models.ErrorResponse, "description": "The history database is unavailable."},
}


class JSONBytes(Response):
    media_type = "application/json"


def get_store(service: ServiceDep) -> HistoryStore:
    store: HistoryStore | None = getattr(service, "store", None)
    if store is None:
        raise HistoryUnavailableError("History is not enabled on this service")
    return store


StoreDep = Annotated[HistoryStore, Depends(get_store)]
MetricQuery = Annotated[
    list[str] | None,
    Query(
        alias="metric",
        description="Metric names, repeated or comma-separated. Default: every chart series "
        f"({', '.join(CHART_METRICS)}).",
    ),
]
GpuQuery = Annotated[
    list[Annotated[int, Field(ge=0, le=2**15 - 1)]] | None,
    Query(alias="gpu_id", description="GPU index, may be repeated. Default: every GPU."),
]
NodeQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="A node's name or id (`/api/v1/history/metrics` lists them). Default: this node.",
    ),
]
StartQuery = Annotated[
    datetime | None, Query(description="ISO 8601 or Unix seconds. Default: `end` minus `range` (1 h).")
]
EndQuery = Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds, exclusive. Default: now.")]
RangeQuery = Annotated[
    RangePreset | None,
    Query(alias="range", description="Preset ending at `end` (or now); ignored when `start` is given."),
]
BucketQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=30 * 86400,
        description="Bucket width in seconds. Default: 1 s for 1 h, 5 s for 6 h, 15 s for 24 h, "
        "2 min for 7 d, 10 min for 30 d (at most 6,000 points).",
    ),
]


def _metric_names(values: list[str] | None) -> tuple[str, ...]:
    names = [name.strip() for value in values or () for name in value.split(",")]
    return tuple(name for name in names if name)


def _window(
    start: datetime | None, end: datetime | None, preset: RangePreset | None, bucket: int | None
) -> tuple[int, int, int | None]:
    start_s = int(start.timestamp()) if start is not None else None
    end_s = int(end.timestamp()) if end is not None else None
    return window(start_s, end_s, preset, bucket, time.time())


@router.get("/metrics", response_model=history_models.HistoryCatalog, responses=ERRORS)
def catalog(store: StoreDep) -> Response:
    """What can be asked for: metrics with their units, range presets, this node's GPUs with history,
    every node with history in this database, the point cap."""
    metrics = [
        {"name": m.name, "scope": m.scope, "unit": m.unit, "help": m.help, "chart": m.chart}
        for m in GPU_METRICS + HOST_METRICS
    ]
    ranges = {name: auto_bucket(span) for name, span in RANGE_PRESETS_S.items()}
    nodes = [
        {"id": node.id, "name": node.name, "local": node.id == store.node.id, "gpus": store.gpu_ids(node.id)}
        for node in store.nodes()
    ]
    body = {
        "metrics": metrics,
        "ranges": ranges,
        "gpus": store.gpu_ids(),
        "node": store.node.id,
        "nodes": nodes,
        "max_points": MAX_POINTS,
    }
    return JSONBytes(orjson.dumps(body))


@router.get("/trends", response_model=history_models.TrendsResponse, responses=ERRORS)
def trends(
    store: StoreDep,
    *,
    metric: MetricQuery = None,
    gpu_id: GpuQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    range_: RangeQuery = None,
    bucket: BucketQuery = None,
    node: NodeQuery = None,
) -> Response:
    """avg/min/max per time bucket for any metrics and GPUs of one node: one call returns every chart series.

    The resolution tier (1 s raw, 5 s, 15 s, 1 min, 1 h) is picked from the range and bucket; a bucket finer
    than the tier still holding the range is widened to it. At most 10,000 points per series."""
    start_s, end_s, bucket_s = _window(start, end, range_, bucket)
    gpus = tuple(dict.fromkeys(gpu_id)) if gpu_id else None
    result = store.trends(TrendQuery(_metric_names(metric), start_s, end_s, gpus, bucket_s, node))
    body = {
        "node": node or store.node.id,
        "start": result.start,
        "end": result.end,
        "bucket_seconds": result.bucket_s,
        "tier": result.tier,
        "range": range_ if start is None else None,
        "series": [
            {
                "metric": series.metric.name,
                "unit": series.metric.unit,
                "gpu_id": series.gpu_id,
                "timestamps": series.timestamps,
                "avg": series.avg,
                "min": series.min,
                "max": series.max,
            }
            for series in result.series
        ],
    }
    return JSONBytes(orjson.dumps(body))


@router.get("/usage", response_model=history_models.UsageResponse, responses=ERRORS)
def usage(
    store: StoreDep,
    *,
    gpu_id: GpuQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    range_: Annotated[
        RangePreset | None, Query(alias="range", description="Preset ending now. Default: 24h.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most processes to list.")] = 100,
    node: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="A node's name or id, or `all` for the whole fleet (each row says its node). "
            "Default: this node.",
        ),
    ] = None,
) -> Response:
    """GPU-hours, energy, peak memory and mean utilization per GPU, user, container, pod, SLURM job
    and process: "who used GPU 3 last week" is ``?gpu_id=3&range=7d``; across every node, ``?node=all``."""
    start_s, end_s, _ = _window(start, end, range_ or "24h", None)
    gpus = tuple(dict.fromkeys(gpu_id)) if gpu_id else None
    report = store.usage(start_s, end_s, gpus, limit, node)
    body = {
        "start": report.start,
        "end": report.end,
        "resolution_seconds": report.resolution_s,
        "gpus": [dataclasses.asdict(item) for item in report.gpus],
        "users": [dataclasses.asdict(item) for item in report.users],
        "processes": [dataclasses.asdict(item) for item in report.processes],
        "containers": [dataclasses.asdict(item) for item in report.containers],
        "pods": [dataclasses.asdict(item) for item in report.pods],
        "jobs": [dataclasses.asdict(item) for item in report.jobs],
    }
    return JSONBytes(orjson.dumps(body))


@router.get("/processes/{pid}", response_model=history_models.ProcessHistoryResponse, responses=ERRORS)
def process_history(
    store: StoreDep,
    pid: Annotated[int, Path(ge=1, le=2**22, description="The process id.")],
    *,
    gpu_id: GpuQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    range_: RangeQuery = None,
    node: NodeQuery = None,
) -> Response:
    """One process over time: peak GPU memory, SM share, share of the GPU's time, CPU and host memory
    per minute (per hour past the minute tier), one series per GPU it ran on."""
    start_s, end_s, _ = _window(start, end, range_, None)
    gpus = tuple(dict.fromkeys(gpu_id)) if gpu_id else None
    history = store.process_history(pid, start_s, end_s, gpus, node)
    body = {
        "pid": history.pid,
        "start": history.start,
        "end": history.end,
        "resolution_seconds": history.resolution_s,
        "series": [dataclasses.asdict(series) for series in history.series],
    }
    return JSONBytes(orjson.dumps(body))


@router.get(
    "/export",
    responses={
        **ERRORS,
        200: {
            "description": "One record per metric, GPU and bucket: "
            "`timestamp, time, gpu_id, metric, unit, avg, min, max`. Streamed.",
            "content": {"text/csv": {}, "application/json": {}},
        },
    },
    response_class=StreamingResponse,
)
def export(
    store: StoreDep,
    *,
    format_: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
    metric: MetricQuery = None,
    gpu_id: GpuQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    range_: RangeQuery = None,
    bucket: Annotated[
        int | None,
        Query(ge=1, le=30 * 86400, description="Bucket in seconds. Default: the finest kept for the range."),
    ] = None,
    node: NodeQuery = None,
) -> StreamingResponse:
    """Any metrics, GPUs and range of one node as CSV or a JSON array, streamed in constant memory; no
    point cap."""
    start_s, end_s, _ = _window(start, end, range_, None)
    gpus = tuple(dict.fromkeys(gpu_id)) if gpu_id else None
    query = TrendQuery(_metric_names(metric), start_s, end_s, gpus, bucket, node)
    chunks = store.export(query, format_)
    filename = f"gpu-sentinel-history-{start_s}-{end_s}.{format_}"
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format_],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/status", response_model=history_models.HistoryStatus, responses=ERRORS)
def status(store: StoreDep) -> Response:
    """Where history goes, whether the database answers, and what is buffered while it does not."""
    current = store.status()
    body = {"backend": current.backend, "location": current.location, **dataclasses.asdict(current.writer)}
    return JSONBytes(orjson.dumps(body))
