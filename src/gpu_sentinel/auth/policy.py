"""Who may do what: anonymous reads only where the policy allows them, changes only for admins, and no
silent exposure of an unauthenticated service beyond the loopback interface."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gpu_sentinel.config import Settings

# Scraped by Prometheus: readable without a token when GPU_SENTINEL_PUBLIC_METRICS is on.
METRICS_PATHS = frozenset({"/metrics", "/api/v1/fleet/targets"})
# Changed by any signed-in user, each for themselves only (the route checks that someone signed in).
SELF_SERVICE_PATHS = frozenset({"/api/v1/users/me/preferences"})


class InsecureBindError(Exception):
    """The service would be open to the network without authentication."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    anonymous_read: bool
    public_metrics: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        anonymous = settings.anonymous_read
        if anonymous is None:
            anonymous = is_loopback(settings.host)
        return cls(anonymous_read=anonymous, public_metrics=settings.public_metrics)


def check_bind(settings: Settings) -> list[str]:
    """Raise ``InsecureBindError`` for anonymous reads on a non-loopback address unless the settings
    explicitly allow them; return the warnings to log when the service is exposed anyway."""
    if is_loopback(settings.host):
        return []
    policy = AccessPolicy.from_settings(settings)
    warnings = []
    if policy.anonymous_read:
        if not settings.allow_insecure_bind:
            raise InsecureBindError(
                f"refusing to serve anonymous reads on {settings.host}, which is not a loopback address: "
                "bind to 127.0.0.1, turn GPU_SENTINEL_ANONYMOUS_READ off, or pass --allow-insecure-bind"
            )
        warnings.append(
            f"SERVING ANONYMOUS READS ON {settings.host} WITHOUT AUTHENTICATION: anyone who can reach "
            "this port can read every metric"
        )
    if policy.public_metrics:
        warnings.append(f"/metrics is readable without a token by anyone who can reach {settings.host}")
    return warnings
