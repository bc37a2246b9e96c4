"""``GET /metrics``: Prometheus exposition with dcgm-exporter's names, built from the latest snapshot."""

from __future__ import annotations

import socket

from fastapi import APIRouter, Response

from gpu_sentinel.api.deps import ServiceDep
from gpu_sentinel.prometheus import SnapshotCollector, render_metrics

router = APIRouter(tags=["prometheus"])


@router.get("/metrics", response_class=Response)
def prometheus_metrics(service: ServiceDep) -> Response:
    """Scraped by Prometheus; runs in the thread pool so rendering never holds up the event loop."""
    sampler = service.sampler
    collector = SnapshotCollector(
        latest=lambda: sampler.latest,
        call_stats=lambda: dict(sampler.call_stats()),
        hostname=socket.gethostname(),
        owner_labels=service.settings.prometheus_process_labels,
        process_utilization=service.settings.prometheus_process_utilization,
    )
    body, content_type = render_metrics(collector)
    return Response(body, media_type=content_type)
