"""One daemon thread per device read, so a driver call that hangs on one GPU holds up only that GPU.

The sampler thread asks a ``ReadWorker`` for a reading and waits for it no longer than its deadline; a
worker still busy from an earlier request is simply not asked again until it answers. The worker owns the
reader's mutable state (only its thread calls ``read``); what it hands back is an immutable result, passed
under the condition shared by all workers of one source, so the sampler can wait for all of them at once.
Workers are daemon threads: a call that never returns cannot keep the process from exiting. A stopped
worker runs its ``close`` on its own thread, so the reader's driver resources are freed by their owner.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class ReadWorker(Generic[T]):
    """Runs ``read`` on its own thread, one request at a time, and keeps the latest request's result."""

    def __init__(
        self,
        name: str,
        read: Callable[[], T],
        done: threading.Condition,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._read = read
        self._close = close
        self._done = done  # guards every field below; notified after each read
        self._wake = threading.Event()
        self._busy_since: float | None = None
        self._result: T | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def request(self, now: float) -> bool:
        """Start a read stamped ``now`` (monotonic seconds) unless one is still running; True if started.

        A result not yet taken stays until this read replaces it, so a slow read that finished just
        before the next slow tick is still published.
        """
        with self._done:
            if self._busy_since is not None or self._closed:
                return False
            self._busy_since = now
        self._wake.set()
        return True

    @property
    def busy_since(self) -> float | None:
        """When the running read was requested, or None while the worker is idle. Read under ``done``."""
        return self._busy_since

    def take(self) -> T | None:
        """The finished read's result, once; None while it runs or when there is none."""
        with self._done:
            result, self._result = self._result, None
            return result

    def stop(self) -> None:
        """Ask the thread to end once its running read (if any) returns; does not wait."""
        with self._done:
            self._closed = True
        self._wake.set()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread after ``stop``; True if it ended within ``timeout_s`` (a hung driver call
        may keep it: it is a daemon thread, so it never keeps the process alive)."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._done:
                closed = self._closed
            if closed:
                self._release()
                return
            result: T | None
            try:
                result = self._read()
            except Exception:
                log.exception("%s failed; its reading is reported as missing", self._thread.name)
                result = None
            with self._done:
                self._result = result
                self._busy_since = None
                self._done.notify_all()

    def _release(self) -> None:
        if self._close is None:
            return
        try:
            self._close()
        except Exception:
            log.exception("%s could not release its resources", self._thread.name)
