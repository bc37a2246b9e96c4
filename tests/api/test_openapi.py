"""The OpenAPI schema tells the truth about limits and errors, and 405s say every method a path serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN, bearer

INT64_MAX = 2**63 - 1


def _integers(schema: Any, components: dict[str, Any], where: str, seen: frozenset[str]) -> Iterator[tuple]:
    """Every integer schema reachable from ``schema``, with where it was found."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], components, f"{where}->{name}", seen | {name})
        return
    if schema.get("type") == "integer":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _integers(sub, components, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _integers(sub, components, f"{where}.{name}", seen)
    yield from _integers(schema.get("items"), components, f"{where}[]", seen)


def test_every_integer_input_is_bounded_within_64_bits(secured: TestClient) -> None:
    spec = secured.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            inputs = [(f"{method} {path} {p['name']}", p["schema"]) for p in operation.get("parameters", [])]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                inputs.append((f"{method} {path} body", content["schema"]))
            for where, schema in inputs:
                for found, integer in _integers(schema, components, where, frozenset()):
                    if (
                        not -INT64_MAX
                        <= integer.get("minimum", -(2**64))
                        <= integer.get("maximum", 2**64)
                        <= INT64_MAX
                    ):
                        unbounded.append(found)
    assert not unbounded


def test_a_huge_offset_is_a_validation_error_not_a_crash(secured: TestClient) -> None:
    response = secured.get("/api/v1/alerts/history", params={"offset": 2**63}, headers=bearer(secured, ADMIN))
    assert response.status_code == 422 and "offset" in response.json()["detail"]


def test_every_error_is_documented_in_the_one_error_shape(secured: TestClient) -> None:
    spec = secured.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    login = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429"} <= set(login)
    assert "Retry-After" in login["429"]["headers"]
    users = spec["paths"]["/api/v1/users"]["get"]["responses"]
    assert {"401", "403", "429"} <= set(users)
    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (status, operation)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/users/somebody", "DELETE, PATCH"),
        ("DELETE", "/api/v1/alerts/rules", "GET, POST"),
        ("POST", "/api/v1/system/gpus", "GET"),
    ],
)
def test_405_names_every_method_of_the_path(
    secured: TestClient, method: str, path: str, allowed: str
) -> None:
    response = secured.request(method, path, headers=bearer(secured, ADMIN))
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == allowed


def test_the_allow_header_is_what_the_path_really_serves(secured: TestClient) -> None:
    admin = bearer(secured, ADMIN)
    refused = secured.request("PUT", "/api/v1/alerts/rules", headers=admin)
    allowed = refused.headers["allow"].split(", ")
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        status = secured.request(method, "/api/v1/alerts/rules", headers=admin).status_code
        assert (status != 405) == (method in allowed), method
