"""Login, token refresh and "who am I": how a browser or script gets and keeps a token."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from gpu_sentinel import models
from gpu_sentinel.api.deps import PrincipalDep, ServiceDep
from gpu_sentinel.auth import Auth, TokenPair
from gpu_sentinel.auth.errors import (
    InvalidCredentialsError,
    LoginBusyError,
    LoginLockedError,
)
from gpu_sentinel.auth.users import MAX_PASSWORD_LENGTH, Role, User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
audit = logging.getLogger("gpu_sentinel.audit")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.ErrorResponse, "description": "Wrong user name or password."},
    422: {"model": models.ErrorResponse, "description": "Malformed request."},
    429: {
        "model": models.ErrorResponse,
        "description": "Too many failed logins, or too many logins at once; see Retry-After.",
    },
}


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    access_token: str = Field(description="Send as 'Authorization: Bearer <token>'.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Buys a new token pair, once, at /api/v1/auth/refresh.")
    refresh_expires_in: int = Field(description="Seconds until the session ends and a login is needed.")
    username: str
    role: Role


class Identity(BaseModel):
    username: str | None = Field(description="Null for anonymous access.")
    role: Role
    anonymous: bool
    anonymous_read: bool = Field(description="Whether this service lets anyone read without a token.")


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _tokens(user: User, pair: TokenPair) -> JSONResponse:
    body = TokenResponse(
        access_token=pair.access.token,
        expires_in=pair.access.lifetime_s,
        refresh_token=pair.refresh.token,
        refresh_expires_in=pair.refresh.lifetime_s,
        username=user.username,
        role=user.role,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


def _check_password(auth: Auth, username: str, password: str) -> User | None:
    """In a worker thread, which holds the slot for as long as the hash runs, even if the client leaves."""
    with auth.hashing.slot():
        return auth.users.authenticate(username, password)


async def _login(auth: Auth, username: str, password: str, client: str) -> JSONResponse:
    """Check the password within the throttle and the hashing bound; every outcome leaves an audit line
    (user and client, never the password)."""
    try:
        auth.throttle.check(username, client)
    except LoginLockedError:
        audit.warning("login refused: user=%r client=%s outcome=locked", username, client)
        raise
    try:
        user = await asyncio.to_thread(_check_password, auth, username, password)
    except LoginBusyError:
        audit.warning("login refused: user=%r client=%s outcome=busy", username, client)
        raise
    if user is None:
        locked_s = auth.throttle.failed(username, client)
        audit.warning("login failed: user=%r client=%s outcome=bad_credentials", username, client)
        if locked_s:
            audit.warning("login locked: user=%r client=%s for %d s", username, client, locked_s)
        raise InvalidCredentialsError()
    auth.throttle.succeeded(username, client)
    audit.info("login: user=%r client=%s outcome=ok", username, client)
    return _tokens(user, await asyncio.to_thread(auth.login_tokens, user))


@router.post("/login", response_model=TokenResponse, responses=LOGIN_ERRORS)
async def login(body: LoginRequest, request: Request, service: ServiceDep) -> JSONResponse:
    """Exchange a user name and password for an access token (60 min) and a refresh token."""
    return await _login(service.auth, body.username, body.password, _client(request))


@router.post("/token", response_model=TokenResponse, responses=LOGIN_ERRORS)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, service: ServiceDep
) -> JSONResponse:
    """The same as ``/login`` with an OAuth2 password form, for the API docs' "Authorize" button."""
    return await _login(service.auth, form.username, form.password, _client(request))


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={
        401: {
            "model": models.ErrorResponse,
            "description": "Invalid, expired, spent or revoked refresh token.",
        },
        422: {"model": models.ErrorResponse, "description": "Malformed request."},
    },
)
async def refresh(body: RefreshRequest, service: ServiceDep) -> JSONResponse:
    """A new token pair for a valid refresh token, which is spent: each refresh token works once, and
    presenting a spent one again ends its session."""
    # Off the event loop: a refresh rewrites users.json.
    user, pair = await asyncio.to_thread(service.auth.refreshed_tokens, body.refresh_token)
    return _tokens(user, pair)


@router.get(
    "/me",
    response_model=Identity,
    responses={401: {"model": models.ErrorResponse, "description": "A token is needed."}},
)
async def me(principal: PrincipalDep, service: ServiceDep) -> Identity:
    """Who the request acts as; the dashboard asks this to decide whether to show its login page."""
    return Identity(
        username=principal.username,
        role=principal.role,
        anonymous=principal.anonymous,
        anonymous_read=service.auth.policy.anonymous_read,
    )
