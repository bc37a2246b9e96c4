"""Liveness plus sampler staleness, for load balancers and process supervisors."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gpu_sentinel import __version__, models
from gpu_sentinel.api.deps import ServiceDep
from gpu_sentinel.store import StoreStatus

router = APIRouter(prefix="/api/v1", tags=["health"])

STALE_AFTER_INTERVALS = 5
STALE_AFTER_MIN_S = 5.0


@router.get(
    "/health",
    response_model=models.HealthResponse,
    responses={503: {"model": models.HealthResponse, "description": "The sampler has stalled."}},
)
async def health(service: ServiceDep) -> JSONResponse:
    """``ok`` while fresh samples arrive and history is written; ``degraded`` while history is not;
    ``stale`` (HTTP 503) when the sampler has stopped producing samples."""
    sampler = service.sampler
    snapshot = sampler.latest
    now = time.time()
    age = now - snapshot.timestamp if snapshot else None
    stale_after = max(STALE_AFTER_MIN_S, STALE_AFTER_INTERVALS * sampler.interval_s)
    if snapshot is None:
        status = "starting"
    elif age is not None and age > stale_after:
        status = "stale"
    else:
        status = "ok"
    history = _history_health(service.store.status())
    if status == "ok" and history.status == "degraded":
        status = "degraded"
    body = models.HealthResponse(
        status=status,
        version=__version__,
        uptime_seconds=round(now - sampler.started_at, 1) if sampler.started_at else 0.0,
        sampler=models.SamplerHealth(
            running=sampler.running,
            interval_seconds=sampler.interval_s,
            last_sample_timestamp=snapshot.timestamp if snapshot else None,
            last_sample_age_seconds=round(age, 3) if age is not None else None,
            samples=snapshot.seq if snapshot else 0,
            overruns=sampler.overruns,
            errors=sampler.errors,
            last_collection_seconds=round(snapshot.cost.gpu_seconds + snapshot.cost.host_seconds, 6)
            if snapshot
            else None,
        ),
        gpu=models.GPUSourceHealth(
            available=sampler.gpus.available,
            status=sampler.gpus.status,
            count=len(snapshot.gpus) if snapshot else 0,
            lost=[g.index for g in snapshot.gpus if g.lost] if snapshot else [],
            unresponsive=[g.index for g in snapshot.gpus if g.unresponsive] if snapshot else [],
        ),
        history=history,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if status == "stale" else 200)


def _history_health(store: StoreStatus) -> models.HistoryHealth:
    """Degraded while the database does not take writes: say why, in words that name no host or path
    (anyone may read this), and where new samples go meanwhile."""
    writer = store.writer
    reason = None
    if not writer.connected:
        if writer.dropped_rows:
            fate = f"{writer.dropped_rows} rows dropped so far, as every buffer is full"
        elif writer.backlog_rows:
            fate = "new samples wait in memory, as the spill file cannot be written either"
        else:
            fate = "new samples wait in the spill file"
        reason = f"history database unavailable: {writer.last_cause or 'not connected yet'}; {fate}"
    return models.HistoryHealth(
        status="ok" if reason is None else "degraded",
        backend="postgresql" if store.backend == "postgresql" else "sqlite",
        reason=reason,
        last_write_timestamp=writer.last_write,
        buffered_rows=writer.backlog_rows,
        spilled_bytes=writer.spilled_bytes,
        dropped_rows=writer.dropped_rows,
    )
