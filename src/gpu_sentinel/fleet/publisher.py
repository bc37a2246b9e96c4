"""Writes this node's live state and heartbeat to PostgreSQL, and announces it with NOTIFY.

Latest wins: the sampler only drops its snapshot in a one-slot mailbox, and the writer thread, on its
own connection, sends whichever snapshot is newest at each heartbeat. A database outage or a slow
server holds up only this thread; nothing queues, because an older state is worth nothing once a newer
one exists (history keeps every sample, on its own path).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from gpu_sentinel.fleet.live import LiveRecord
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store.listener import RETRY_S, connect
from gpu_sentinel.store.live import UPSERT_AND_NOTIFY

log = logging.getLogger(__name__)


class LivePublisher:
    """Upserts ``node_live`` about every ``interval_s`` from its own thread."""

    def __init__(
        self,
        url: str,
        node: NodeIdentity,
        *,
        version: str,
        metrics_url: str,
        interval_s: float,
        alerts_firing: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.url = url
        self.node = node
        self.version = version
        self.metrics_url = metrics_url
        self.interval_s = interval_s
        self._alerts_firing = alerts_firing
        self._latest: Snapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: psycopg.Connection[Any] | None = None
        self.published = 0
        self.failures = 0

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Sampler subscriber: replaces the mailbox's snapshot and returns at once."""
        with self._lock:
            self._latest = snapshot

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fleet-live-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._connection is not None:
            self._connection.close()

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                snapshot = self._latest
            pause = self.interval_s
            if snapshot is not None and not self.publish(snapshot):
                pause = max(pause, RETRY_S)
            deadline = max(deadline + pause, time.monotonic())
            self._stop.wait(deadline - time.monotonic())

    def publish(self, snapshot: Snapshot) -> bool:
        """Write ``snapshot`` as this node's state now; False (and logged once per outage) on failure."""
        try:
            firing = self._alerts_firing()
        except Exception:  # the alert worker's trouble must not stop the heartbeat
            log.debug("alert count unavailable for the live state", exc_info=True)
            firing = None
        record = LiveRecord.of(
            snapshot, self.node, version=self.version, metrics_url=self.metrics_url, alerts_firing=firing
        )
        try:
            if self._connection is None or self._connection.closed:
                self._connection = connect(self.url)
            self._connection.execute(UPSERT_AND_NOTIFY.encode(), record.params())
        except psycopg.Error as error:
            if isinstance(error, psycopg.errors.UndefinedTable):
                log.debug("live state waits for the history schema's migration")
            elif self.failures == 0:
                log.warning("live state not published (retrying every %.3g s): %s", RETRY_S, error)
            else:
                log.debug("live state not published: %s", error)
            self.failures += 1
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            return False
        if self.failures:
            log.info("live state published again after %d failed attempts", self.failures)
            self.failures = 0
        self.published += 1
        return True
