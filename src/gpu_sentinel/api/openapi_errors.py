"""Makes the OpenAPI schema say which errors each operation really answers with, in the one error shape
every error has: the protective middlewares answer before any route runs, so routes cannot document
those themselves, and FastAPI documents its own 422 body, which this service never sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from gpu_sentinel import models
from gpu_sentinel.auth.policy import METRICS_PATHS, SELF_SERVICE_PATHS, AccessPolicy

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")
DESCRIPTIONS = {
    400: "Malformed request: a body that cannot be parsed, or a Host name this service does not answer to.",
    401: "A token is needed, or the one sent is invalid, expired or revoked.",
    403: "The token's role does not allow this.",
    413: "The request body is larger than the limit.",
    422: "A parameter or field is invalid; `detail` says which and what is allowed.",
    429: "Too many requests from this client, or too many logins; see Retry-After.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}
}
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def _fastapi_or_no_body(response: dict[str, Any]) -> bool:
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    return not body or body.get("$ref", "").rsplit("/", 1)[-1] in FASTAPI_ERROR_SCHEMAS


@dataclass(frozen=True, slots=True)
class ErrorDocs:
    policy: AccessPolicy
    public_paths: frozenset[str]

    def statuses(self, path: str, method: str, operation: dict[str, Any]) -> set[int]:
        """The error statuses the middlewares and FastAPI's parsing can answer this operation with."""
        statuses = {429}
        if "requestBody" in operation:
            statuses |= {400, 413, 422}
        if operation.get("parameters"):
            statuses.add(422)
        if self.policy.anonymous_read:
            statuses.add(400)
        if path in METRICS_PATHS:
            if not self.policy.public_metrics:
                statuses.add(401)
        elif path.startswith("/api/") and path not in self.public_paths:
            statuses.add(401)
            # Changes need an admin (but for a user's own); admin-only reads document their 403.
            if method not in READ_METHODS and path not in SELF_SERVICE_PATHS:
                statuses.add(403)
        return statuses

    def apply(self, schema: dict[str, Any]) -> None:
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorResponse", models.ErrorResponse.model_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in self.statuses(path, method.upper(), operation):
                    responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
                for status, response in responses.items():
                    if status.startswith(("4", "5")) and _fastapi_or_no_body(response):
                        response["content"] = {"application/json": {"schema": ERROR_SCHEMA}}
                    if status == "429":
                        response["headers"] = RETRY_AFTER
        for name in FASTAPI_ERROR_SCHEMAS:
            components.pop(name, None)


def document_errors(app: FastAPI, policy: AccessPolicy, public_paths: frozenset[str]) -> None:
    """Replace ``app.openapi`` with one that documents every error the service can answer with."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            ErrorDocs(policy, public_paths).apply(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
