"""Refresh-token sessions ("families"): a login starts one, each refresh replaces its single valid token,
and a spent token presented again revokes the whole family, since either its owner or a thief holds a
copy. The users store keeps the families with each user, so they survive restarts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MAX_FAMILIES_PER_USER = 32


@dataclass(frozen=True, slots=True)
class RefreshFamily:
    token_id: str  # the one refresh token of this family that may still be used
    expires_at: float


@dataclass(frozen=True, slots=True)
class RefreshUse:
    """What a presented refresh token claims, checked against the store."""

    username: str
    user_id: str
    generation: int
    family: str
    token_id: str


def with_family(
    families: Mapping[str, RefreshFamily], family: str, current: RefreshFamily, now: float
) -> dict[str, RefreshFamily]:
    """``families`` with ``family`` set to ``current``, expired ones dropped, and at most
    ``MAX_FAMILIES_PER_USER`` kept (those that expire first go)."""
    live = {name: f for name, f in families.items() if f.expires_at > now and name != family}
    live[family] = current
    while len(live) > MAX_FAMILIES_PER_USER:
        del live[min(live, key=lambda name: live[name].expires_at)]
    return live
