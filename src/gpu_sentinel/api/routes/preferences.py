"""The signed-in user's own dashboard preferences: any user, viewer or admin, reads and saves theirs
and nobody else's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from gpu_sentinel import models
from gpu_sentinel.api.deps import PrincipalDep, ServiceDep
from gpu_sentinel.auth import Principal
from gpu_sentinel.auth.errors import NotAuthenticatedError
from gpu_sentinel.auth.users import User
from gpu_sentinel.preferences import (
    MAX_PREFERENCES_BYTES,
    PreferencesIn,
    PreferencesOut,
    PreferencesTooLargeError,
)

router = APIRouter(prefix="/api/v1/users/me", tags=["users"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.ErrorResponse, "description": "Only a signed-in user has server-side preferences."},
}
SAVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {
        "model": models.ErrorResponse,
        "description": f"Over {MAX_PREFERENCES_BYTES} bytes, an unknown view or panel, or a panel twice.",
    },
    503: {"model": models.ErrorResponse, "description": "The data directory cannot be written."},
}


def _signed_in_user(principal: Principal, service: ServiceDep) -> User:
    user = None if principal.username is None else service.auth.users.get(principal.username)
    if user is None:
        raise NotAuthenticatedError(
            "Sign in to keep preferences on the server; without an account the browser keeps them"
        )
    return user


async def _limit_size(request: Request) -> None:
    """Refuse an oversized document before it is parsed (the body is read once, and cached)."""
    size_bytes = len(await request.body())
    if size_bytes > MAX_PREFERENCES_BYTES:
        raise PreferencesTooLargeError(size_bytes)


@router.get("/preferences", response_model=PreferencesOut, responses=ERRORS)
def get_preferences(principal: PrincipalDep, service: ServiceDep) -> PreferencesOut:
    """The user's saved preferences; ``layout`` is null until they save one."""
    return service.preferences.get(_signed_in_user(principal, service).user_id)


@router.put(
    "/preferences",
    response_model=PreferencesOut,
    responses=SAVE_ERRORS,
    dependencies=[Depends(_limit_size)],
)
def put_preferences(body: PreferencesIn, principal: PrincipalDep, service: ServiceDep) -> PreferencesOut:
    """Replace the user's preferences: the dashboard saves its layout here after every change."""
    user = _signed_in_user(principal, service)
    user_ids = {known.user_id for known in service.auth.users.list()}
    return service.preferences.save(user.user_id, user.username, body, user_ids=user_ids)
