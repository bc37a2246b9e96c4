"""Liveness plus sampler staleness, for load balancers and process supervisors."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gpu_sentinel import __version__, models
from gpu_sentinel.api.deps import ServiceDep

router = APIRouter(prefix="/api/v1", tags=["health"])

STALE_AFTER_INTERVALS = 5
STALE_AFTER_MIN_S = 5.0


@router.get(
    "/health",
    response_model=models.HealthResponse,
    responses={503: {"model": models.HealthResponse, "description": "The sampler has stalled."}},
)
async def health(service: ServiceDep) -> JSONResponse:
    """``ok`` while fresh samples arrive; ``stale`` (HTTP 503) when the sampler has stopped producing them."""
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
        ),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if status == "stale" else 200)
