"""Request dependencies as ``Annotated`` aliases: what a route needs, read from the app's Service.

They are ``async`` because FastAPI runs plain functions in its thread pool, which would cost more than
the lookups themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from gpu_sentinel.auth import Principal
from gpu_sentinel.auth.errors import NotAuthenticatedError, PermissionDeniedError
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


# Documents bearer auth in the OpenAPI schema (the /docs "Authorize" button); the Authentication
# middleware has already verified the token by the time a route runs.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_principal(request: Request, _: Annotated[str | None, Depends(bearer_scheme)]) -> Principal:
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthenticatedError()
    return principal


async def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """For every route that changes something: only admins may."""
    if principal.anonymous:
        raise NotAuthenticatedError()
    if not principal.allows("admin"):
        raise PermissionDeniedError("admin")
    return principal


ServiceDep = Annotated[Service, Depends(get_service)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
RenderedDep = Annotated[RenderedResponses, Depends(get_rendered)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
AdminDep = Annotated[Principal, Depends(require_admin)]
