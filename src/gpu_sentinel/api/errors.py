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

from gpu_sentinel.errors import SentinelError

log = logging.getLogger(__name__)


def error_response(
    status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"detail": detail, "error": code, "timestamp": datetime.now(timezone.utc).isoformat()}
    return JSONResponse(body, status_code=status_code, headers=headers)


def describe_validation_errors(errors: Any) -> str:
    """FastAPI's validation errors as one readable sentence: where, what is allowed, what was given."""
    parts = []
    for error in errors:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        given = error.get("input")
        given_text = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
        parts.append(f"{location or 'request'}: {error.get('msg', 'invalid')}{given_text}")
    return "; ".join(parts)


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
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(
            exc.status_code, _code_for_status(exc.status_code), str(exc.detail), getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "Internal server error; the service log has the details")
