"""Request dependencies as ``Annotated`` aliases: what a route needs, read from the app's Service.

They are ``async`` because FastAPI runs plain functions in its thread pool, which would cost more than
the lookups themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gpu_sentinel.errors import NotReadyError
from gpu_sentinel.service import Service
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.views import RenderedResponses


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def get_snapshot(request: Request) -> Snapshot:
    """The latest snapshot; requests never wait for the hardware."""
    snapshot = request.app.state.service.sampler.latest
    if snapshot is None:
        raise NotReadyError()
    return snapshot  # type: ignore[no-any-return]


async def get_rendered(request: Request) -> RenderedResponses:
    rendered: RenderedResponses = request.app.state.rendered
    return rendered


ServiceDep = Annotated[Service, Depends(get_service)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
RenderedDep = Annotated[RenderedResponses, Depends(get_rendered)]
