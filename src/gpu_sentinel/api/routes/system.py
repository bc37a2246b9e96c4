"""The System Monitor API of spec 003 §4, plus every GPU in one response. Served from the latest snapshot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from gpu_sentinel import models, views
from gpu_sentinel.api.deps import RenderedDep, SnapshotDep
from gpu_sentinel.errors import GPUUnavailableError, UnknownGPUError
from gpu_sentinel.snapshot import GPUSample, Snapshot

router = APIRouter(prefix="/api/v1/system", tags=["system"])

GPU_ID_DESCRIPTION = "GPU index as listed by /api/v1/system/gpu-list."
GpuIdQuery = Annotated[int, Query(ge=0, le=2**31 - 1, description=GPU_ID_DESCRIPTION)]
GpuIdPath = Annotated[int, Path(ge=0, le=2**31 - 1, description=GPU_ID_DESCRIPTION)]
ProcessQuery = Annotated[
    str | None,
    Query(
        max_length=128,
        description="Only processes whose PID, name, user, container, pod or SLURM job contains this "
        "text (case-insensitive); empty keeps all.",
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.ErrorResponse, "description": "No GPU has this id."},
    422: {"model": models.ErrorResponse, "description": "Malformed parameter."},
    503: {"model": models.ErrorResponse, "description": "GPU monitoring is not available."},
}


def snapshot_json(snapshot: Snapshot, body: bytes) -> Response:
    """A JSON body rendered from ``snapshot``, tagged so the response cache can serve it again."""
    return Response(body, media_type="application/json", headers={"X-Snapshot-Seq": str(snapshot.seq)})


def _require_gpus(snapshot: Snapshot) -> None:
    if not snapshot.gpus:
        raise GPUUnavailableError(None if snapshot.gpu_status == "ok" else snapshot.gpu_status)


def _require_gpu(snapshot: Snapshot, gpu_id: int) -> GPUSample:
    _require_gpus(snapshot)
    sample = snapshot.gpu(gpu_id)
    if sample is None:
        raise UnknownGPUError(gpu_id, snapshot.gpu_ids)
    return sample


@router.get("/monitoring/all", response_model=models.MonitoringDataResponse, responses=ERRORS)
async def monitoring_all(
    snapshot: SnapshotDep, rendered: RenderedDep, gpu_id: GpuIdQuery = 0, q: ProcessQuery = None
) -> Response:
    """Everything the dashboard shows, in one response; without a GPU, ``gpu_available`` is false."""
    if snapshot.gpus and snapshot.gpu(gpu_id) is None:
        raise UnknownGPUError(gpu_id, snapshot.gpu_ids)
    body = rendered.get(snapshot, ("all", gpu_id, q), lambda: views.monitoring_all(snapshot, gpu_id, q))
    return snapshot_json(snapshot, body)


@router.get("/gpus", response_model=models.AllGPUsResponse, responses=ERRORS)
async def all_gpus(snapshot: SnapshotDep, rendered: RenderedDep, q: ProcessQuery = None) -> Response:
    """Every GPU's metrics and processes in one response (compare view, multi-GPU servers);
    ``q=`` keeps the processes of one user, container, pod or job."""
    _require_gpus(snapshot)
    return snapshot_json(snapshot, rendered.get(snapshot, ("gpus", q), lambda: views.all_gpus(snapshot, q)))


@router.get("/gpu-list", response_model=list[models.GPUInfo], responses=ERRORS)
async def gpu_list(snapshot: SnapshotDep, rendered: RenderedDep) -> Response:
    _require_gpus(snapshot)
    return snapshot_json(snapshot, rendered.get(snapshot, "gpu-list", lambda: views.gpu_list(snapshot)))


@router.get("/gpu-metrics", response_model=models.GPUMetrics, responses=ERRORS)
async def gpu_metrics(snapshot: SnapshotDep, rendered: RenderedDep, gpu_id: GpuIdQuery = 0) -> Response:
    sample = _require_gpu(snapshot, gpu_id)
    return snapshot_json(
        snapshot, rendered.get(snapshot, ("gpu-metrics", gpu_id), lambda: views.gpu_metrics(sample))
    )


@router.get("/metrics", response_model=models.SystemMetrics, responses=ERRORS)
async def system_metrics(snapshot: SnapshotDep, rendered: RenderedDep) -> Response:
    body = rendered.get(snapshot, "system", lambda: views.system_metrics(snapshot.host, snapshot.timestamp))
    return snapshot_json(snapshot, body)


@router.get("/gpu-info/{gpu_id}", response_model=models.GPUInfo, responses=ERRORS)
async def gpu_info(snapshot: SnapshotDep, rendered: RenderedDep, gpu_id: GpuIdPath) -> Response:
    sample = _require_gpu(snapshot, gpu_id)
    return snapshot_json(
        snapshot,
        rendered.get(snapshot, ("gpu-info", gpu_id), lambda: views.gpu_info(sample.info, sample.lost)),
    )
