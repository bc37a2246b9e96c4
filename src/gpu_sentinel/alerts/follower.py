"""Keeps this node's alert configuration in step with a shared PostgreSQL: a rule, channel or silence
changed on any node or hub is applied here within moments, without a restart.

A thread of its own LISTENs for the change notification and, on each one and every ``poll_s`` in any
case (a notification sent while its connection was down is lost), compares the database's
configuration version with the one last applied. When they differ it hands a reload to the alert
worker, which owns the configuration and skips the reload if it is already current.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from gpu_sentinel.alerts.errors import AlertsUnavailableError
from gpu_sentinel.alerts.repository import CONFIG_CHANNEL, AlertRepository
from gpu_sentinel.alerts.state import AlertState
from gpu_sentinel.alerts.worker import AlertWorker
from gpu_sentinel.store.database import DatabaseUnavailableError
from gpu_sentinel.store.listener import ChannelListener

log = logging.getLogger(__name__)
POLL_S = 5.0
WAIT_S = 0.5
_UNKNOWN = object()


class ConfigFollower(ChannelListener):
    """Applies configuration changes made elsewhere, heard by LISTEN or found by a version check."""

    thread_name = "gpu-sentinel-alert-config"
    heard = "alert configuration changes"

    def __init__(
        self, url: str, repository: AlertRepository, worker: AlertWorker, *, poll_s: float = POLL_S
    ) -> None:
        super().__init__(url, CONFIG_CHANNEL)
        self.poll_s = poll_s
        self._repository = repository
        self._worker = worker
        self._applied: object = _UNKNOWN
        """The version the worker holds, as far as this thread knows (the first check asks it)."""
        self.handoffs = 0
        """How often a changed version was handed to the worker."""

    def _catch_up(self, connection: psycopg.Connection[Any]) -> None:
        self._check()  # whatever changed while not listening

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        schema_row = connection.execute(b"SELECT current_schema()").fetchone()
        schema = schema_row[0] if schema_row else None
        next_check = time.monotonic() + self.poll_s
        while not self.stopping:
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
