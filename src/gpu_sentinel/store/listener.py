"""Connections of their own to a shared PostgreSQL, and threads that LISTEN on one channel over one.

The fleet's live state, alert transitions and alert configuration changes are all announced with
NOTIFY. Each listener keeps a connection that gives up on a hung server instead of waiting forever,
reconnects after any database error, and on every (re)connection first catches up on what it may have
missed, since a notification sent while it was not listening is lost.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 5000
RETRY_S = 2.0


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection of the fleet's own, which gives up on a hung server instead of waiting forever."""
    connection = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=autocommit)
    connection.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}".encode())
    return connection


class ChannelListener:
    """A daemon thread that LISTENs on ``channel`` and hands its connection to ``_follow`` until stopped.
    Subclasses say what catching up means (``_catch_up``) and what a notification does (``_follow``)."""

    thread_name = "gpu-sentinel-listener"
    heard = "notifications"
    """What is heard, for the log: "alert configuration changes are not heard (retrying ...)"."""

    def __init__(self, url: str, channel: str) -> None:
        self.url = url
        self.channel = channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        """Set while connected, listening and caught up."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with connect(self.url) as connection:
                    connection.execute(f"LISTEN {self.channel}".encode())
                    self._catch_up(connection)
                    self.listening.set()
                    if failures:
                        log.info("%s are heard again after %d attempts", self.heard, failures)
                        failures = 0
                    self._follow(connection)
            except psycopg.Error as error:
                level = logging.WARNING if failures == 0 else logging.DEBUG  # once per outage
                log.log(level, "%s are not heard (retrying every %.3g s): %s", self.heard, RETRY_S, error)
                failures += 1
            self.listening.clear()
            self._stop.wait(RETRY_S)

    def _catch_up(self, connection: psycopg.Connection[Any]) -> None:
        """What a notification lost while not listening would have told (nothing by default)."""

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        """Wait for notifications (``connection.notifies``) and act on them until ``stopping``."""
        raise NotImplementedError
