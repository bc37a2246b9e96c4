"""Login, token refresh and "who am I": how a browser or script gets and keeps a token."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from gpu_sentinel import models
from gpu_sentinel.api.deps import PrincipalDep, ServiceDep
from gpu_sentinel.auth import Auth
from gpu_sentinel.auth.errors import InvalidCredentialsError, InvalidTokenError
from gpu_sentinel.auth.users import MAX_PASSWORD_LENGTH, Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": models.ErrorResponse, "description": "Wrong user name or password."},
    422: {"model": models.ErrorResponse, "description": "Malformed request."},
    429: {"model": models.ErrorResponse, "description": "Too many failed logins; see Retry-After."},
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
    refresh_token: str = Field(description="Buys a new access token at /api/v1/auth/refresh.")
    refresh_expires_in: int
    username: str
    role: Role


class Identity(BaseModel):
    username: str | None = Field(description="Null for anonymous access.")
    role: Role
    anonymous: bool
    anonymous_read: bool = Field(description="Whether this service lets anyone read without a token.")


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _tokens(auth: Auth, username: str, role: Role) -> JSONResponse:
    access = auth.tokens.issue(username, role, "access")
    refresh = auth.tokens.issue(username, role, "refresh")
    body = TokenResponse(
        access_token=access.token,
        expires_in=int(auth.tokens.access_ttl_s),
        refresh_token=refresh.token,
        refresh_expires_in=int(auth.tokens.refresh_ttl_s),
        username=username,
        role=role,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


async def _login(auth: Auth, username: str, password: str, client: str) -> JSONResponse:
    auth.throttle.check(username, client)
    user = await asyncio.to_thread(auth.users.authenticate, username, password)
    if user is None:
        auth.throttle.failed(username, client)
        raise InvalidCredentialsError()
    auth.throttle.succeeded(username, client)
    return _tokens(auth, user.username, user.role)


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
        401: {"model": models.ErrorResponse, "description": "Invalid or expired refresh token."},
        422: {"model": models.ErrorResponse, "description": "Malformed request."},
    },
)
async def refresh(body: RefreshRequest, service: ServiceDep) -> JSONResponse:
    """A new token pair for a valid refresh token, with the user's current role."""
    auth = service.auth
    claims = auth.tokens.verify(body.refresh_token, "refresh")
    auth.users.refresh()
    user = auth.users.get(claims.username)
    if user is None:
        raise InvalidTokenError("The token's user no longer exists")
    return _tokens(auth, user.username, user.role)


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
