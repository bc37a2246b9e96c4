"""A bound on password hashes computed at once: each Argon2 check takes 64 MiB, so unauthenticated login
requests must not be able to run an unbounded number of them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gpu_sentinel.auth.errors import LoginBusyError

MAX_CONCURRENT_HASHES = 2


class HashingSlots:
    """A few slots; a login that finds none free is refused at once rather than queued."""

    def __init__(self, slots: int = MAX_CONCURRENT_HASHES) -> None:
        self.slots = slots
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot while the block runs; ``LoginBusyError`` when every slot is taken."""
        if not self._semaphore.acquire(blocking=False):
            raise LoginBusyError()
        try:
            yield
        finally:
            self._semaphore.release()
