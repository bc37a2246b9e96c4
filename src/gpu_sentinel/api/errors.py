"""One place that turns every error into ``{"detail", "error", "timestamp"}`` with the right status."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from gpu_sentinel.errors import SentinelError

log = logging.getLogger(__name__)


def error_response(
    status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"detail": detail, "error": code, "timestamp": datetime.now(timezone.utc).isoformat()}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def reject(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    """Answer an HTTP request or refuse a WebSocket handshake with ``response`` (from a middleware)."""
    if scope["type"] == "websocket":
        await WebSocket(scope, receive, send).send_denial_response(response)
    else:
        await response(scope, receive, send)


# Values under these names are never repeated back: error bodies end up in logs, screenshots and tickets.
SECRET_FIELD_WORDS = ("password", "secret", "token", "authorization", "api_key")
MAX_ECHO_CHARS = 80


def _echo(error: Any) -> str:
    """What the client sent, for the message: only a short scalar, and never a secret's value (nor the
    value of an unexpected field, which may be a misspelt secret)."""
    given = error.get("input")
    names = [str(part).lower() for part in error.get("loc", ())]
    if error.get("type") == "extra_forbidden" or any(w in n for n in names for w in SECRET_FIELD_WORDS):
        return ""
    if not isinstance(given, (str, int, float)) or isinstance(given, bool):
        return ""
    text = repr(given)
    return f" (got {text[:MAX_ECHO_CHARS]}{'...' if len(text) > MAX_ECHO_CHARS else ''})"


def describe_validation_errors(errors: Any) -> str:
    """FastAPI's validation errors as one readable sentence: where, what is allowed, what was given."""
    parts = []
    for error in errors:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{location or 'request'}: {error.get('msg', 'invalid')}{_echo(error)}")
    return "; ".join(parts)


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, scope: Scope) -> str:
    """Every method some route serves at the request's path: FastAPI has a route per method, and a 405
    from one of them names only its own."""
    allowed = []
    for method in HTTP_METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def _code_for_status(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return f"http_{status_code}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SentinelError)
    async def sentinel_error(_: Request, exc: SentinelError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(app, request.scope)
        return error_response(exc.status_code, _code_for_status(exc.status_code), str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "Internal server error; the service log has the details")
