"""Login brute-force protection: failures counted per user name and client, with a lockout that doubles
after each further failure. Bounded: the oldest entries go first when it is full."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gpu_sentinel.auth.errors import LoginLockedError

MAX_FAILURES = 5
WINDOW_S = 900.0
BASE_LOCKOUT_S = 30.0
MAX_LOCKOUT_S = 900.0
MAX_ENTRIES = 10_000


@dataclass(slots=True)
class _Failures:
    count: int
    last_at: float
    locked_until: float


class LoginThrottle:
    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        base_lockout_s: float = BASE_LOCKOUT_S,
        max_lockout_s: float = MAX_LOCKOUT_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.base_lockout_s = base_lockout_s
        self.max_lockout_s = max_lockout_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[tuple[str, str], _Failures] = {}

    def check(self, username: str, client: str) -> None:
        """Raise ``LoginLockedError`` while this user name is locked for this client."""
        entry = self._entries.get((username.lower(), client))
        if entry is None:
            return
        now = self._clock()
        if now < entry.locked_until:
            raise LoginLockedError(math.ceil(entry.locked_until - now))

    def failed(self, username: str, client: str) -> int:
        """Count a failure; the seconds the pair is now locked for (0 while it is not)."""
        now = self._clock()
        key = (username.lower(), client)
        entry = self._entries.get(key)
        if entry is None or now - entry.last_at > self.window_s:
            self._make_room(now)
            entry = self._entries[key] = _Failures(0, now, 0.0)
        entry.count += 1
        entry.last_at = now
        if entry.count >= self.max_failures:
            doublings = entry.count - self.max_failures
            entry.locked_until = now + min(self.max_lockout_s, self.base_lockout_s * 2 ** min(doublings, 32))
            return math.ceil(entry.locked_until - now)
        return 0

    def succeeded(self, username: str, client: str) -> None:
        self._entries.pop((username.lower(), client), None)

    def _make_room(self, now: float) -> None:
        if len(self._entries) < self.max_entries:
            return
        self._entries = {
            key: entry
            for key, entry in self._entries.items()
            if now - entry.last_at <= self.window_s or now < entry.locked_until
        }
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
