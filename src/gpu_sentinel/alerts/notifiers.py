"""How a notification reaches each kind of channel: signed JSON webhooks, Slack and Discord incoming
webhooks, and e-mail over SMTP. A notifier sends one payload or raises; retrying is the outbox's job.

Webhook contract: ``POST`` of the JSON payload (see ``events.Transition.payload``) plus
``idempotency_key``; headers ``X-GPU-Sentinel-Signature: sha256=<hex HMAC-SHA256 of the body>`` (when
the channel has a secret), ``X-GPU-Sentinel-Idempotency-Key`` and ``X-GPU-Sentinel-Event``. Receivers
dedupe on the key: a delivery whose success could not be recorded (a crash in between) is sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import httpx
import orjson

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.events import describe_holder

SIGNATURE_HEADER = "X-GPU-Sentinel-Signature"
IDEMPOTENCY_HEADER = "X-GPU-Sentinel-Idempotency-Key"
EVENT_HEADER = "X-GPU-Sentinel-Event"
USER_AGENT = "gpu-sentinel-alerts"
_COLOURS = {"critical": 0xD32F2F, "warning": 0xF9A825, "info": 0x1976D2, "resolved": 0x2E7D32}
DISCORD_CONTENT_LIMIT = 2000
QUIET_LOGGERS = ("httpx", "httpcore")
BODY_EXCERPT_CHARS = 80


def excerpt(text: str, limit: int) -> str:
    """Outside text made safe for one log line: at most ``limit`` characters, each control, format or
    line-separator character escaped (``\\n``, ``\\x1b``, ``\\u2028``), so it can never forge a line."""
    safe = "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text[:limit]
    )
    return safe + ("..." if len(text) > limit else "")


class ReceiverStatusError(Exception):
    """The receiver answered a status other than 2xx; the message adds an escaped excerpt of its reply."""

    def __init__(self, status: int, reply: str) -> None:
        message = f"the receiver answered HTTP {status}"
        if reply:
            message += f": {excerpt(reply, BODY_EXCERPT_CHARS)}"
        super().__init__(message)
        self.status = status


class PermanentDeliveryError(ReceiverStatusError):
    """The receiver refused the notification for good (a 4xx other than 408/425/429): retrying cannot help."""


def failure_status(error: BaseException) -> str:
    """What a channel test reports: the receiver's status or the kind of failure, never what it replied,
    so pointing a channel at some local port does not make the service read that port for an admin."""
    if isinstance(error, ReceiverStatusError):
        return f"the receiver answered HTTP {error.status}"
    import aiosmtplib

    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"the SMTP server answered {error.code}"
    return type(error).__name__


class Notifier(Protocol):
    async def send(self, channel: ChannelSpec, key: str, payload: dict[str, Any]) -> None: ...


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(channel: ChannelSpec, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON a channel of this type expects."""
    if channel.type == "slack":
        return {"text": payload["summary"]}
    if channel.type == "discord":
        colour = _COLOURS["resolved" if payload["status"] == "resolved" else payload["severity"]]
        return {
            "content": payload["summary"][:DISCORD_CONTENT_LIMIT],
            "embeds": [
                {
                    "title": payload["rule"]["name"],
                    "description": payload["rule"]["description"] or payload["summary"],
                    "color": colour,
                    "timestamp": payload["timestamp"],
                }
            ],
        }
    return {**payload, "idempotency_key": key}


class HttpNotifier:
    """Webhook, Slack and Discord: one pooled HTTP client for every channel.

    A channel's URL and headers are credentials, and httpx logs every request's URL at INFO (httpcore
    more at DEBUG), so those loggers are kept at WARNING and errors name the status, never the URL.
    """

    def __init__(self) -> None:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self._client = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    async def send(self, channel: ChannelSpec, key: str, payload: dict[str, Any]) -> None:
        assert channel.url is not None
        body = orjson.dumps(webhook_body(channel, key, payload))
        headers = {
            **channel.headers,
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            EVENT_HEADER: payload["status"],
        }
        if channel.secret is not None:
            headers[SIGNATURE_HEADER] = sign(channel.secret.get_secret_value(), body)
        response = await self._client.post(
            channel.url, content=body, headers=headers, timeout=channel.timeout_s
        )
        status = response.status_code
        if 200 <= status < 300:
            return
        if 400 <= status < 500 and status not in (408, 425, 429):
            raise PermanentDeliveryError(status, response.text)
        raise ReceiverStatusError(status, response.text)

    async def aclose(self) -> None:
        await self._client.aclose()


def email_message(channel: ChannelSpec, key: str, payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    status = payload["status"].upper()
    message["Subject"] = (
        f"[{status} {payload['severity']}] {payload['rule']['name']} on {payload['instance']}"
    )
    message["From"] = channel.sender or ""
    message["To"] = ", ".join(channel.recipients)
    message["Date"] = formatdate(localtime=False)
    domain = (channel.sender or "gpu-sentinel@localhost").rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=key.replace(":", "."), domain=domain)
    message[IDEMPOTENCY_HEADER] = key
    lines = [payload["summary"], ""]
    if payload["rule"]["description"]:
        lines += [payload["rule"]["description"], ""]
    rule = payload["rule"]
    lines += [
        f"Rule:      {payload['rule']['name']} ({payload['rule']['id']})",
        f"Severity:  {payload['severity']}",
        f"Instance:  {payload['instance']} on {payload['host']}",
        f"Value:     {payload['value']} {payload['unit']}",
        f"Condition: {rule['metric']} {rule['condition']} {rule['threshold']}",
        f"Since:     {payload['started_at']}",
        f"At:        {payload['timestamp']}",
    ]
    for process in payload.get("processes") or []:
        lines.append(f"Process:   {describe_holder(process)}")
    message.set_content("\n".join(lines) + "\n")
    return message


class EmailNotifier:
    """SMTP through aiosmtplib: STARTTLS or implicit TLS, optional login, a CA file for private CAs."""

    async def send(self, channel: ChannelSpec, key: str, payload: dict[str, Any]) -> None:
        import aiosmtplib

        context = ssl.create_default_context(cafile=channel.ca_file) if channel.ca_file else None
        await aiosmtplib.send(
            email_message(channel, key, payload),
            hostname=channel.smtp_host,
            port=channel.smtp_port,
            username=channel.username,
            password=channel.password.get_secret_value() if channel.password else None,
            start_tls=channel.starttls if not channel.use_tls else False,
            use_tls=channel.use_tls,
            tls_context=context,
            timeout=channel.timeout_s,
        )


class Notifiers:
    """The notifier for each channel type."""

    def __init__(self) -> None:
        self.http = HttpNotifier()
        self.email = EmailNotifier()

    def for_channel(self, channel: ChannelSpec) -> Notifier:
        return self.email if channel.type == "email" else self.http

    async def aclose(self) -> None:
        await self.http.aclose()
