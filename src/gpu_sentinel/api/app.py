"""The FastAPI application, made by a factory so a test makes one in a line and nothing runs at import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from gpu_sentinel import __version__
from gpu_sentinel.api.errors import install_error_handlers
from gpu_sentinel.api.response_cache import SnapshotResponseCache
from gpu_sentinel.api.routes import (
    alerts,
    auth,
    catalogue,
    fleet,
    health,
    history,
    metrics,
    preferences,
    processes,
    stream,
    system,
    users,
)
from gpu_sentinel.api.security import install_security
from gpu_sentinel.api.spa import mount_spa
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from gpu_sentinel.views import RenderedResponses


def create_app(settings: Settings, *, service: Service | None = None) -> FastAPI:
    """Build the app around ``service`` (made from ``settings`` when not given); the app starts it on
    start-up and stops it on shutdown."""
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(service.start)
        try:
            yield
        finally:
            await asyncio.to_thread(service.stop)

    app = FastAPI(
        title="GPU Sentinel",
        version=__version__,
        description="NVIDIA GPU and host monitoring: live metrics, history, alerts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.rendered = RenderedResponses()
    install_error_handlers(app)
    app.add_middleware(
        SnapshotResponseCache, latest=lambda: service.sampler.latest, prefix=system.router.prefix + "/"
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # outside the cache: cached bodies compress too
    install_security(app, settings, service.auth)
    app.include_router(system.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(catalogue.router)
    app.include_router(history.router)
    app.include_router(auth.router)
    app.include_router(preferences.router)
    app.include_router(users.router)
    app.include_router(stream.router)
    app.include_router(alerts.router)
    app.include_router(fleet.router)
    app.include_router(processes.router)
    mount_spa(app)  # the router's fallback: safe wherever later routers are added
    return app
