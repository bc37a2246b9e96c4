"""Abuse resistance: rate limit, body size limit, security headers, CORS allow-list, and the refusal to
serve anonymous reads beyond loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.testclient import WebSocketDenialResponse

from gpu_sentinel.api.app import create_app
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


def test_dashboard_files_never_spend_the_rate_limit(limited: TestClient) -> None:
    with limited:
        pages = [limited.get(path).status_code for path in ["/", "/usage", "/alerts"] * 4]
        statuses = [limited.get(READ).status_code for _ in range(3)]
        metrics = limited.get("/metrics")
    assert 429 not in pages
    assert statuses == [200, 200, 200]  # the whole burst was still there for the API
    assert metrics.status_code == 429  # scrapes are the API's budget


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


def _behind_proxy(tmp_path: Path, peer: str) -> TestClient:
    settings = Settings(data_dir=tmp_path, rate_limit=1, rate_limit_burst=1, trusted_proxies=["10.0.0.0/8"])
    app = create_app(settings, service=secured_service(settings))
    return TestClient(app, base_url="http://localhost", client=(peer, 1234))


def test_trusted_proxy_forwards_the_right_most_untrusted_address(tmp_path: Path) -> None:
    with _behind_proxy(tmp_path, "10.0.0.2") as proxied:
        health = "/api/v1/health"
        assert proxied.get(health, headers={"X-Forwarded-For": "198.51.100.7"}).status_code != 429
        # Another client behind the proxy has a bucket of its own ...
        assert proxied.get(health, headers={"X-Forwarded-For": "198.51.100.8"}).status_code != 429
        # ... but what a client writes left of the proxies' entries changes nothing.
        for spoofed in ("1.1.1.1, 198.51.100.7", "2.2.2.2, 198.51.100.7, 10.0.0.9"):
            assert proxied.get(health, headers={"X-Forwarded-For": spoofed}).status_code == 429
        # A hop that is no address counts as the proxy itself, never as a new client per value.
        assert proxied.get(health, headers={"X-Forwarded-For": "unknown"}).status_code != 429
        assert proxied.get(health, headers={"X-Forwarded-For": "not-an-address"}).status_code == 429


def test_proxy_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    with _behind_proxy(tmp_path, "192.0.2.50") as direct:
        assert direct.get("/api/v1/health", headers={"X-Forwarded-For": "198.51.100.1"}).status_code != 429
        assert direct.get("/api/v1/health", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 429


def test_trusted_proxies_and_allowed_hosts_are_checked_at_start() -> None:
    with pytest.raises(ValidationError, match="not an IP address or a CIDR"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example.com")
    with pytest.raises(ValidationError, match="not a host name"):
        Settings(allowed_hosts="gpu.example.com, https://gpu.example.com")
    assert Settings(trusted_proxies=" 127.0.0.1 ,, ::1").trusted_proxies == ["127.0.0.1", "::1"]


def _open_stream(client: TestClient, **headers: str) -> int:
    """The status a WebSocket handshake gets: 101 when accepted."""
    try:
        with client.websocket_connect("/api/v1/stream", headers=headers) as ws:
            ws.receive_json()
    except WebSocketDenialResponse as denied:
        return denied.status_code
    return 101


def test_websockets_from_foreign_pages_are_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit=0, cors_origins="https://dash.example.com")
    with make_client(settings, secured_service(settings)) as client:
        assert _open_stream(client) == 101  # no Origin: a script, not a browser page
        assert _open_stream(client, origin="http://localhost") == 101  # the dashboard itself
        assert _open_stream(client, origin="https://dash.example.com") == 101
        with (
            pytest.raises(WebSocketDenialResponse) as foreign,
            client.websocket_connect("/api/v1/stream", headers={"origin": "https://evil.example"}),
        ):
            pass
        assert foreign.value.status_code == 403
        assert foreign.value.json()["error"] == "origin_not_allowed"
        assert "evil.example" in foreign.value.json()["detail"]
        assert _open_stream(client, origin="null") == 403
        assert _open_stream(client, origin="http://localhost:9999") == 403


def test_anonymous_read_services_refuse_foreign_host_names(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rate_limit=0, allowed_hosts="gpu.example.com")
    with make_client(settings, secured_service(settings)) as client:
        rebound = client.get(READ, headers={"Host": "evil.example:5500"})
        assert rebound.status_code == 400 and rebound.json()["error"] == "host_not_allowed"
        assert "GPU_SENTINEL_ALLOWED_HOSTS" in rebound.json()["detail"]
        assert _open_stream(client, host="evil.example:5500", origin="http://evil.example:5500") == 400
        for host in ("localhost:5500", "127.0.0.1:5500", "[::1]:5500", "10.1.2.3", "gpu.example.com"):
            assert client.get(READ, headers={"Host": host}).status_code == 200, host


def test_services_that_need_tokens_answer_any_host_name(secured: TestClient) -> None:
    response = secured.get(READ, headers={"Host": "gpu.example.com"})
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"
