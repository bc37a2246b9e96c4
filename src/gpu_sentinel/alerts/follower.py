"""Keeps this node's alert configuration in step with a shared PostgreSQL: a rule, channel or silence
changed on any node or hub is applied here within moments, without a restart.

A thread of its own LISTENs for the change notification and, on each one and every ``poll_s`` in any
case (a notification sent while its connection was down is lost), compares the database's
configuration version with the one last applied. When they differ it hands a reload to the alert
worker, which owns the configuration and skips the reload if it is already current.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from gpu_sentinel.alerts.errors import AlertsUnavailableError
from gpu_sentinel.alerts.repository import CONFIG_CHANNEL, AlertRepository
from gpu_sentinel.alerts.state import AlertState
from gpu_sentinel.alerts.worker import AlertWorker
from gpu_sentinel.store.database import DatabaseUnavailableError

log = logging.getLogger(__name__)
POLL_S = 5.0
WAIT_S = 0.5
RETRY_S = 2.0
CONNECT_TIMEOUT_S = 3
_UNKNOWN = object()


class ConfigFollower:
    """Applies configuration changes made elsewhere, heard by LISTEN or found by a version check."""

    def __init__(
        self, url: str, repository: AlertRepository, worker: AlertWorker, *, poll_s: float = POLL_S
    ) -> None:
        self.url = url
        self.poll_s = poll_s
        self._repository = repository
        self._worker = worker
        self._applied: object = _UNKNOWN
        """The version the worker holds, as far as this thread knows (the first check asks it)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.handoffs = 0
        """How often a changed version was handed to the worker."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gpu-sentinel-alert-config", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                ) as connection:
                    connection.execute(f"LISTEN {CONFIG_CHANNEL}".encode())
                    self.listening.set()
                    if failures:
                        log.info("alert configuration changes heard again after %d attempts", failures)
                        failures = 0
                    self._follow(connection)
            except psycopg.Error as error:
                # Once per outage: the history store reports the outage itself.
                level = logging.WARNING if failures == 0 else logging.DEBUG
                log.log(
                    level, "alert configuration changes not heard (retrying every %.3g s): %s", RETRY_S, error
                )
                failures += 1
            self.listening.clear()
            self._stop.wait(RETRY_S)

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        schema_row = connection.execute(b"SELECT current_schema()").fetchone()
        schema = schema_row[0] if schema_row else None
        self._check()  # whatever changed while not listening
        next_check = time.monotonic() + self.poll_s
        while not self._stop.is_set():
            heard = any(n.payload == schema for n in connection.notifies(timeout=WAIT_S, stop_after=100))
            if heard or time.monotonic() >= next_check:
                self._check()
                next_check = time.monotonic() + self.poll_s

    def _check(self) -> None:
        try:
            version = self._repository.config_version()
        except (DatabaseUnavailableError, psycopg.Error) as error:
            log.debug("alert configuration version unavailable: %s", error)
            return
        if version == self._applied:
            return

        def reload(state: AlertState) -> str | None:
            state.reload(version)
            return state.config_version

        try:
            self._applied = self._worker.call(reload)
        except AlertsUnavailableError as error:
            log.warning("alert configuration change not applied yet: %s", error)
            return
        self.handoffs += 1
