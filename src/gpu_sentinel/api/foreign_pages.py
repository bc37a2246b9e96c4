"""Defences against other web pages the local user visits. Browsers let any page open a WebSocket to any
address (cross-site WebSocket hijacking), and a page whose name is re-pointed at 127.0.0.1 (DNS rebinding)
becomes same-origin with the service; where reads need no token, either would let it read everything."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from gpu_sentinel.api.errors import error_response, reject

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def host_name(host: str) -> str:
    """The name in a ``Host`` header or an origin's authority: no port, no IPv6 brackets, lowercase."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return (name if name and port.isdigit() else host).rstrip(".")


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class ForeignPageGuard:
    """Refuses a WebSocket whose ``Origin`` is neither the service's own nor a configured CORS origin (a
    missing Origin, from a non-browser client, is fine); and, where ``check_host`` (anonymous reads), any
    request whose ``Host`` is a name other than a loopback one or a configured one. An address as the
    Host is fine: a rebound page always sends its own name."""

    def __init__(
        self, app: ASGIApp, *, cors_origins: Iterable[str], check_host: bool, allowed_hosts: Iterable[str]
    ) -> None:
        self.app = app
        self.cors_origins = frozenset(origin.lower().rstrip("/") for origin in cors_origins)
        self.check_host = check_host
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = origin = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
        if self.check_host and host is not None and not self.host_allowed(host):
            detail = (
                f"Host {host!r} is not allowed: this service answers reads without a token, so it serves "
                "only loopback names, IP addresses and the names in GPU_SENTINEL_ALLOWED_HOSTS"
            )
            await reject(scope, receive, send, error_response(400, "host_not_allowed", detail))
            return
        if scope["type"] == "websocket" and origin is not None and not self.origin_allowed(origin, host):
            detail = (
                f"A WebSocket from origin {origin!r} is refused: only pages of this service and of "
                "CORS_ORIGINS may open the stream"
            )
            await reject(scope, receive, send, error_response(403, "origin_not_allowed", detail))
            return
        await self.app(scope, receive, send)

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        return (
            name in LOOPBACK_NAMES
            or name.endswith(".localhost")
            or is_address(name)
            or name in self.allowed_hosts
            or host.lower() in self.allowed_hosts
        )

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        origin = origin.lower().rstrip("/")
        if origin in self.cors_origins:
            return True
        # Same host and port as the request: the service's own page, whichever scheme a proxy ended.
        authority = urlsplit(origin).netloc
        return bool(authority) and host is not None and authority == host.strip().lower()
