"""Abuse resistance: rate limit, body size limit, security headers, CORS allow-list, and the refusal to
serve anonymous reads beyond loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.api.security import RateLimit
from gpu_sentinel.config import Settings
from tests.api.conftest import make_client, secured_service
from tests.conftest import free_port
from tests.server import running_server, sentinel_command

READ = "/api/v1/system/gpus"


@pytest.fixture
def limited(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=5, rate_limit_burst=3)
    return make_client(settings, secured_service(settings))


def test_rate_limit_answers_429_with_retry_after(limited: TestClient) -> None:
    with limited:
        statuses = [limited.get(READ).status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
        response = limited.get(READ)
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited" and "5 requests per second" in response.json()["detail"]
    assert response.json()["timestamp"]
    assert int(response.headers["retry-after"]) >= 1


def test_token_bucket_refills_and_forgets_idle_clients() -> None:
    now = [0.0]
    limiter = RateLimit(app=None, rate=10, burst=2, max_clients=2, clock=lambda: now[0])  # type: ignore[arg-type]
    assert [limiter._take("a") for _ in range(3)] == [0, 0, 1]
    now[0] += 0.1
    assert limiter._take("a") == 0
    limiter._take("b")
    now[0] += 1.0
    limiter._take("c")
    assert len(limiter._buckets) <= 2


def test_one_dashboard_is_not_throttled_by_the_default_limit() -> None:
    now = [0.0]
    limiter = RateLimit(app=None, rate=10, burst=20, clock=lambda: now[0])  # type: ignore[arg-type]
    refused = 0
    for _ in range(120):  # 60 s of three endpoints polled every 0.5 s
        now[0] += 0.5
        refused += sum(limiter._take("browser") > 0 for _ in range(3))
    assert refused == 0


def test_oversized_bodies_are_refused_with_413(secured: TestClient) -> None:
    body = b'{"username": "' + b"a" * 70_000 + b'", "password": "x"}'
    response = secured.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large" and "65536" in response.json()["detail"]

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"username": "'
        for _ in range(10):
            yield b"a" * 10_000
        yield b'"}'

    streamed = secured.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and streamed.json()["error"] == "payload_too_large"


def test_security_headers_on_api_and_pages(client: TestClient) -> None:
    for path in (READ, READ, "/", "/api/v1/nope"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "content-security-policy" not in client.get("/docs").headers


def test_cors_allows_only_listed_origins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit=0, cors_origins="https://dash.example.com")
    with make_client(settings, secured_service(settings)) as client:
        allowed = client.get(READ, headers={"Origin": "https://dash.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example.com"
        assert "access-control-allow-credentials" not in allowed.headers
        for _ in range(3):  # cached answers too, and the cache must not keep one client's CORS headers
            again = client.get(READ, headers={"Origin": "https://dash.example.com"})
            assert again.headers.get_list("access-control-allow-origin") == ["https://dash.example.com"]
            other = client.get(READ, headers={"Origin": "https://evil.example.com"})
            assert "access-control-allow-origin" not in other.headers
        preflight = client.options(
            READ,
            headers={
                "Origin": "https://dash.example.com",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert preflight.status_code == 200
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_no_cors_headers_by_default(client: TestClient) -> None:
    assert (
        "access-control-allow-origin" not in client.get(READ, headers={"Origin": "https://x.example"}).headers
    )


def test_wildcard_cors_and_weak_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="'\\*' is refused"):
        Settings(cors_origins="*")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Settings(jwt_secret="short")
    with pytest.raises(ValueError, match="placeholder"):
        Settings(jwt_secret="changeme-changeme-changeme-changeme")


def test_anonymous_reads_on_a_public_address_refuse_to_start(tmp_path: Path) -> None:
    command = [
        *sentinel_command(),
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--anonymous-read",
    ]
    result = subprocess.run(
        [*command, "--data-dir", str(tmp_path), "--log-file", ""],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve anonymous reads on 0.0.0.0" in lines[0]
    assert "--allow-insecure-bind" in lines[0]


def test_public_address_with_auth_starts_and_wants_tokens(tmp_path: Path) -> None:
    with running_server(["--host", "0.0.0.0", "--simulate", "1", "--data-dir", str(tmp_path)]) as url:
        assert httpx.get(f"{url}{READ}").status_code == 401


def test_explicit_flag_allows_an_insecure_bind(tmp_path: Path) -> None:
    args = ["--host", "0.0.0.0", "--anonymous-read", "--allow-insecure-bind", "--simulate", "1"]
    with running_server([*args, "--data-dir", str(tmp_path)]) as url:
        assert httpx.get(f"{url}{READ}").status_code == 200
