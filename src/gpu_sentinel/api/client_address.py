"""Who the client is, for the rate limit and the login lockout: the peer's address, or, only when the peer
is a configured reverse proxy, the right-most address of ``X-Forwarded-For`` that is not a proxy. Anything
left of that was written by the client and proves nothing."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


class TrustedProxies:
    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)

    def __contains__(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)

    def client_of(self, forwarded_for: list[str]) -> str | None:
        """The right-most hop that is not a trusted proxy (the left-most when every hop is one); None
        when that hop is not an address (``unknown``, garbage), so the proxy's own address counts."""
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        untrusted = next((hop for hop in reversed(hops) if hop not in self), hops[0] if hops else None)
        address = _address(untrusted) if untrusted else None
        return str(address) if address is not None else None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class ForwardedClient:
    """Replaces ``scope["client"]`` (and the scheme, from ``X-Forwarded-Proto``) for requests that come
    through a trusted proxy; without trusted proxies it is not installed at all."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and peer[0] in self.proxies:
            scope = self._through_proxy(scope)
        await self.app(scope, receive, send)

    def _through_proxy(self, scope: Scope) -> Scope:
        forwarded_for: list[str] = []
        proto: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
        scope = dict(scope)
        client = self.proxies.client_of(forwarded_for)
        if client:
            scope["client"] = (client, 0)
        if proto in ("http", "https"):
            scope["scheme"] = proto.replace("http", "ws") if scope["type"] == "websocket" else proto
        return scope
