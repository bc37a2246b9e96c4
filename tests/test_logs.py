"""The log keeps no credential and takes no forged line: what an operator (or anyone who can read the
log) would see after a real run, and after records from uvicorn, httpx and our own loggers."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from websockets import ConnectionClosed, InvalidStatus, Subprotocol
from websockets.sync.client import connect

from gpu_sentinel.logs import CONTINUATION, setup_logging
from tests.server import running_server

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - ")
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsInR5cCI6ImFjY2VzcyJ9.c2lnbmF0dXJlLXZhbHVl"
SECRETS = {
    "query token": f"GET /api/v1/stream?token={JWT}&x=1",
    "access token": "body access_token=at-0123456789abcdef",
    "refresh token": '{"refresh_token": "rt-0123456789abcdef", "token_type": "bearer"}',
    "password": "form username=bob&password=correct-horse-battery",
    "python repr": "{'password': 'correct-horse-battery', 'user': 'bob'}",
    "authorization header": "headers {'Authorization': 'Bearer bt-0123456789abcdef'}",
    "basic header": "Authorization: Basic Ym9iOmNvcnJlY3QtaG9yc2U=",
    "subprotocol": "sec-websocket-protocol: bearer, bt-0123456789abcdef",
    "secret": "webhook secret=wh-0123456789abcdef configured",
    "url userinfo": "connecting to postgresql://sentinel:pg-0123456789abcdef@db.example:5432/history",
    "slack url": "POST https://hooks.slack.com/services/T0000/B0000/sl0123456789abcdef",
}
CREDENTIALS = (
    JWT,
    "at-0123456789abcdef",
    "rt-0123456789abcdef",
    "correct-horse-battery",
    "bt-0123456789abcdef",
    "Ym9iOmNvcnJlY3QtaG9yc2U=",
    "wh-0123456789abcdef",
    "pg-0123456789abcdef",
    "sl0123456789abcdef",
)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Everything at debug, httpx included: the alert notifiers quieten httpx for their own client, and the
    formatter must hold even where a logger is left talking."""
    path = tmp_path / "log" / "gpu_service.log"
    setup_logging("debug", path)
    httpx_logger = logging.getLogger("httpx")
    httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.NOTSET)
    yield path
    httpx_logger.setLevel(httpx_level)
    setup_logging("warning", None)


def lines_of(path: Path) -> list[str]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
@pytest.mark.parametrize("logger", ["gpu_sentinel.alerts.outbox", "uvicorn.error", "httpx"])
def test_no_credential_reaches_the_log_at_any_level(log_file: Path, logger: str, level: int) -> None:
    for kind, text in SECRETS.items():
        logging.getLogger(logger).log(level, "%s: %s", kind, text)
    lines = lines_of(log_file)
    assert len(lines) == len(SECRETS)
    for credential in CREDENTIALS:
        assert not [line for line in lines if credential in line], credential
    # What is not a credential stays readable.
    text = "\n".join(lines)
    assert "stream?token=***&x=1" in text
    assert "postgresql://sentinel:***@db.example:5432/history" in text
    assert "'user': 'bob'" in text and '"token_type": "bearer"' in text


def test_an_outside_value_cannot_forge_a_log_line(log_file: Path) -> None:
    body = (
        "oops\r\n2026-12-01 10:00:00,000 - gpu_sentinel - CRITICAL - FORGED admin password reset\x1b[2K\x85"
    )
    logging.getLogger("gpu_sentinel.alerts.outbox").warning("receiver answered 500: %s", body)
    try:
        raise RuntimeError(f"delivery failed: {body}")
    except RuntimeError:
        logging.getLogger("gpu_sentinel.alerts.outbox").exception("delivery to %s failed", "ops")
    lines = lines_of(log_file)
    records = [line for line in lines if RECORD_START.match(line)]
    assert len(records) == 2
    assert all(RECORD_START.match(line) or line.startswith(CONTINUATION) for line in lines)
    assert "\\r\\n2026-12-01 10:00:00,000 - gpu_sentinel - CRITICAL - FORGED" in records[0]
    assert not any("\x1b" in line or "\x85" in line for line in lines)
    assert any(line.startswith(CONTINUATION + "Traceback") for line in lines)


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_httpx_request_lines_carry_no_credential(log_file: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://hook:pw-0123456789abcdef@127.0.0.1:{server.server_port}/hook?token=qt-0123456789abcdef"
        assert httpx.post(url, json={}).status_code == 204
    finally:
        server.shutdown()
        server.server_close()
    lines = [line for line in lines_of(log_file) if "HTTP Request: POST" in line]
    assert lines, "httpx logs each request at INFO"
    assert not any("pw-0123456789abcdef" in line or "qt-0123456789abcdef" in line for line in lines)


def _open_stream(url: str, subprotocols: list[Subprotocol] | None = None) -> None:
    try:
        with connect(url, open_timeout=5, subprotocols=subprotocols) as ws:
            ws.recv(timeout=5)
    except (InvalidStatus, ConnectionClosed, TimeoutError):
        pass


def test_a_real_run_logs_no_token_or_password(tmp_path: Path) -> None:
    log = tmp_path / "state" / "log" / "gpu_service.log"
    args = ["--simulate", "1", "--data-dir", str(tmp_path / "data"), "--log-file", str(log), "--access-log"]
    with running_server(args) as base_url:
        ws_url = base_url.replace("http://", "ws://") + "/api/v1/stream"
        _open_stream(f"{ws_url}?token={JWT}")
        _open_stream(ws_url, subprotocols=[Subprotocol("bearer"), Subprotocol(JWT)])
        httpx.get(
            f"{base_url}/api/v1/system/gpu?access_token={JWT}", headers={"Authorization": f"Bearer {JWT}"}
        )
        httpx.post(
            f"{base_url}/api/v1/auth/login", json={"username": "admin", "password": "correct-horse-battery"}
        )
        httpx.post(
            f"{base_url}/api/v1/auth/login",
            content=b"username=admin&password=correct-horse-battery",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    text = log.read_text(encoding="utf-8")
    assert "/api/v1/stream?token=***" in text, "uvicorn logs the stream's URL"
    assert "/api/v1/system/gpu?access_token=***" in text, "the access log names the request"
    assert JWT not in text and "correct-horse-battery" not in text


def test_a_full_disk_under_the_log_is_reported_once_not_per_record(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging("info", Path("/dev/full"))  # every write fails with ENOSPC, as on a full disk
    try:
        for n in range(20):
            logging.getLogger("gpu_sentinel").warning("record %d", n)
    finally:
        setup_logging("warning", None)
    errors = capfd.readouterr().err.splitlines()
    assert [line for line in errors if "/dev/full" in line] == [
        "gpu-sentinel: cannot write the log file /dev/full: [Errno 28] No space left on device"
    ]
    assert not [line for line in errors if "Logging error" in line or "Traceback" in line]
    assert len([line for line in errors if " - WARNING - record " in line]) == 20, "the console still logs"
