"""The API's protective layers, each a small raw ASGI middleware with one job, all outside the response
cache so that cached answers get the same protection as fresh ones:

forwarded client (behind trusted proxies only) -> security headers -> foreign pages (Host, WebSocket Origin)
-> body size limit -> rate limit -> CORS -> authentication -> response cache -> FastAPI
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gpu_sentinel.api.client_address import ForwardedClient, TrustedProxies, parse_networks
from gpu_sentinel.api.errors import error_response, reject
from gpu_sentinel.api.foreign_pages import ForeignPageGuard
from gpu_sentinel.api.openapi_errors import document_errors
from gpu_sentinel.auth import ANONYMOUS, Auth, Principal
from gpu_sentinel.auth.errors import (
    AuthError,
    NotAuthenticatedError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from gpu_sentinel.auth.policy import METRICS_PATHS, SELF_SERVICE_PATHS
from gpu_sentinel.auth.users import Role
from gpu_sentinel.config import Settings

PUBLIC_API_PATHS = frozenset(
    {"/api/v1/health", "/api/v1/auth/login", "/api/v1/auth/token", "/api/v1/auth/refresh"}
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WEBSOCKET_TOKEN_PROTOCOL = "bearer"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The interactive API docs load their scripts from a CDN, so they get every header but the CSP.
DOCS_PATHS = ("/docs", "/redoc")


def error_for(exc: AuthError) -> JSONResponse:
    return error_response(exc.status_code, exc.code, exc.detail, exc.headers)


def too_large_response(exc: HTTPException) -> JSONResponse:
    return error_response(413, "payload_too_large", exc.detail)


class SecurityHeaders:
    """Adds headers that stop sniffing, framing, referrer leaks and foreign scripts to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        self._docs_headers = common
        self._headers = [*common, (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs_headers if scope["path"].startswith(DOCS_PATHS) else self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new message: inner layers (the response cache) keep theirs and must not see ours.
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLargeError(HTTPException):
    """Raised while a body arrives; an HTTPException, so FastAPI's body parsing lets it through."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body is larger than the limit of {max_bytes} bytes")


class BodySizeLimit:
    """Refuses request bodies over ``max_bytes`` with 413, by their declared length or as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await too_large_response(BodyTooLargeError(self.max_bytes))(scope, receive, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


class RateLimit:
    """A token bucket per client address: ``rate`` requests per second with bursts of ``burst``.

    It guards what costs the server work: the API, the stream and ``/metrics``. The dashboard's own files
    (a page load fetches a dozen) are static and cached, so opening pages never spends a client's budget.
    Memory is bounded: when ``max_clients`` buckets exist, full (idle) buckets are dropped first.
    """

    def __init__(
        self,
        app: ASGIApp,
        rate: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not _is_limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        retry_after = self._take(client[0] if client else "")
        if retry_after:
            exc = TooManyRequestsError(
                f"Rate limit of {self.rate:g} requests per second exceeded; retry in {retry_after} s",
                retry_after,
            )
            await reject(scope, receive, send, error_for(exc))
            return
        await self.app(scope, receive, send)

    def _take(self, key: str) -> int:
        """Spend a token of ``key``'s bucket; the seconds to wait when it is empty, else 0."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._evict(now)
            bucket = self._buckets[key] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return max(1, math.ceil((1.0 - tokens) / self.rate))
        bucket[0] = tokens - 1.0
        return 0

    def _evict(self, now: float) -> None:
        refill_s = self.burst / self.rate
        self._buckets = {key: b for key, b in self._buckets.items() if now - b[1] < refill_s}
        while len(self._buckets) >= self.max_clients:
            del self._buckets[next(iter(self._buckets))]


def _is_limited(path: str) -> bool:
    return path.startswith("/api/") or path == "/metrics"


def bearer_token(scope: Scope) -> str | None:
    """The token from ``Authorization: Bearer``, or for WebSockets from the subprotocols ``bearer, <token>``
    (browsers cannot set headers on WebSockets). Never from the URL: servers and proxies log URLs."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    if scope["type"] != "websocket":
        return None
    protocols = scope.get("subprotocols") or []
    if len(protocols) >= 2 and protocols[0] == WEBSOCKET_TOKEN_PROTOCOL:
        return str(protocols[1])
    return None


class Authentication:
    """Resolves who a request acts as (``scope["user"]``) and enforces the policy: reads need a viewer
    (or anonymous reads allowed), changes need an admin, a few paths are public.

    Tokens are verified once and cached until they expire, so this costs a header scan per request.
    """

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

    def required_role(self, scope: Scope) -> Role | None:
        path: str = scope["path"]
        if path in METRICS_PATHS:
            return None if self.auth.policy.public_metrics else "viewer"
        if path.startswith("/api/"):
            if path in PUBLIC_API_PATHS:
                return None
            if scope["type"] == "websocket" or scope["method"] in READ_METHODS or path in SELF_SERVICE_PATHS:
                return "viewer"
            return "admin"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        needed = self.required_role(scope)
        try:
            scope["user"] = self._principal(scope, needed)
        except AuthError as exc:
            await reject(scope, receive, send, error_for(exc))
            return
        await self.app(scope, receive, send)

    def _principal(self, scope: Scope, needed: Role | None) -> Principal:
        token = bearer_token(scope)
        if token is None:
            if needed is None or (needed == "viewer" and self.auth.policy.anonymous_read):
                return ANONYMOUS
            raise NotAuthenticatedError()
        try:
            principal = self.auth.principal(token)
        except AuthError:
            if needed is None:
                return ANONYMOUS
            raise
        if needed is not None and not principal.allows(needed):
            raise PermissionDeniedError(needed)
        return principal


def install_security(app: FastAPI, settings: Settings, auth: Auth) -> None:
    """Add the protective middlewares around whatever the app has so far (the response cache), and
    document the errors they answer with."""
    document_errors(app, auth.policy, PUBLIC_API_PATHS)

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return error_for(exc)

    @app.exception_handler(BodyTooLargeError)
    async def body_too_large(_: Request, exc: BodyTooLargeError) -> JSONResponse:
        return too_large_response(exc)

    app.add_middleware(Authentication, auth=auth)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    if settings.rate_limit > 0:
        app.add_middleware(RateLimit, rate=settings.rate_limit, burst=settings.rate_limit_burst)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        ForeignPageGuard,
        cors_origins=settings.cors_origins,
        check_host=auth.policy.anonymous_read,
        allowed_hosts=settings.allowed_hosts,
    )
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:
        app.add_middleware(ForwardedClient, proxies=TrustedProxies(parse_networks(settings.trusted_proxies)))
