"""Real receivers on loopback: an HTTP server that checks webhook signatures (and can fail or stall on
purpose), and an SMTP server with STARTTLS and login."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gpu_sentinel.alerts.channels import ChannelSpec
from tests.conftest import free_port, require_component

SMTP_USER = "alerts"
SMTP_PASSWORD = "s3cret-pass"


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    signature_ok: bool | None
    at: float
    path: str = ""


@dataclass
class WebhookReceiver:
    """Answers ``fail_first`` requests with HTTP 503 and ``fail_body`` (or waits ``delay_s``), then 200.

    Requests on connections opened before ``refuse_opened_before`` (monotonic seconds) are refused too: a
    receiver that comes back must not accept what a stopped sender had already put on the wire."""

    secret: str | None = None
    fail_first: int = 0
    fail_body: bytes = b""
    delay_s: float = 0.0
    url: str = ""
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    arrived: int = 0  # requests begun, answered or not yet
    refuse_opened_before: float = 0.0
    event: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, raw: bytes, headers: dict[str, str], path: str = "", opened_at: float = 0.0) -> int:
        with self.event:
            self.arrived += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        with self.event:
            if self.refused < self.fail_first or opened_at < self.refuse_opened_before:
                self.refused += 1
                return 503
            signature_ok = None
            if self.secret is not None:
                expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
                signature_ok = hmac.compare_digest(expected, headers.get("x-gpu-sentinel-signature", ""))
            self.received.append(Received(json.loads(raw), headers, signature_ok, time.monotonic(), path))
            self.event.notify_all()
        return 200

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        with self.event:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")
                self.event.wait(left)
            return list(self.received)


@contextmanager
def webhook_server(receiver: WebhookReceiver) -> Iterator[WebhookReceiver]:
    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            self.opened_at = time.monotonic()
            super().setup()

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.handle(raw, headers, self.path, self.opened_at)
            body = receiver.fail_body if status != 200 else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.logins: list[str] = []
        self.tls: list[bool] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._cond:
            self.messages.append(message_from_bytes(content))
            self.tls.append(session.ssl is not None)
            self._cond.notify_all()
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            ok = auth_data.login.decode() == SMTP_USER and auth_data.password.decode() == SMTP_PASSWORD
            if ok:
                self.logins.append(SMTP_USER)
            return AuthResult(success=ok)
        return AuthResult(success=False)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    require_component(shutil.which("openssl") is not None, "openssl")
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(directory: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    """STARTTLS required, login required over TLS; yields the mailbox, port and CA file."""
    cert, key = make_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=mailbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield mailbox, port, cert
    finally:
        controller.stop()


def mail_channel(port: int, ca_file: Path) -> ChannelSpec:
    """An email channel for ``smtp_server``: STARTTLS with its certificate, and its login."""
    return ChannelSpec(
        name="mail",
        type="email",
        smtp_host="127.0.0.1",
        smtp_port=port,
        starttls=True,
        ca_file=str(ca_file),
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        sender="sentinel@example.org",
        recipients=["oncall@example.org"],
    )
