"""Property-based fuzzing of every operation in the app's own OpenAPI schema, as an admin, with valid and
with invalid requests: no request may produce a server error, a status the schema does not document, or a
body or header that breaks the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import GenerationMode, checks
from schemathesis.schemas import APIOperation, BaseSchema

from gpu_sentinel.api.app import create_app
from gpu_sentinel.auth.tokens import TokenService
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.api.conftest import ADMIN, secured_service


@pytest.fixture
def fuzzed_service(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.1, rate_limit=0, anonymous_read=False)
    service = secured_service(settings)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def app(fuzzed_service: Service) -> FastAPI:
    return create_app(fuzzed_service.settings, service=fuzzed_service)


@pytest.fixture
def admin_headers(fuzzed_service: Service) -> dict[str, str]:
    tokens: TokenService = fuzzed_service.auth.tokens
    admin = fuzzed_service.auth.users.get(ADMIN[0])
    assert admin is not None
    return {"Authorization": f"Bearer {tokens.issue(admin, 'access').token}"}


@pytest.fixture
def api_schema(app: FastAPI) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Per operation and mode: enough to reach every documented error, modest on a 2-core CI runner.
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


def _fuzz(operation: APIOperation, headers: dict[str, str], mode: GenerationMode) -> None:
    @FUZZ_SETTINGS
    @hypothesis.given(case=operation.as_strategy(mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: an operation without inputs


def test_api_never_fails_or_breaks_its_schema(api_schema: BaseSchema, admin_headers: dict[str, str]) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, admin_headers, mode)
            except Exception as exc:
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
