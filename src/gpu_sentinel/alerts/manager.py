"""Alerting as one part of the service: it assembles the repository, the engine with its configuration,
the worker thread that owns them, the outbox dispatcher, and the operations the API offers.

The sampler's callback only enqueues a snapshot for the worker; the API's changes run on the worker too
(see ``worker``), so the engine, rules, channels and silences are only ever touched by one thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.configuration import AlertConfiguration
from gpu_sentinel.alerts.engine import HOST_KEY, AlertEngine
from gpu_sentinel.alerts.errors import AlertObjectNotFoundError, AlertsUnavailableError, ChannelFailedError
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.follower import ConfigFollower
from gpu_sentinel.alerts.notifiers import failure_status
from gpu_sentinel.alerts.outbox import OutboxDispatcher, RetryPolicy
from gpu_sentinel.alerts.repository import UNCLAIMED_NODE, AlertRepository, HistoryFilter
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.alerts.state import AlertState
from gpu_sentinel.alerts.views import alert_view, parse_alert_id
from gpu_sentinel.alerts.worker import AlertWorker, EventPublisher
from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity, load_node_identity
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store import open_database
from gpu_sentinel.store.database import Database, DatabaseUnavailableError
from gpu_sentinel.store.postgres import PostgresDatabase

log = logging.getLogger(__name__)


class AlertManager:
    """The alerting subsystem's front: life cycle, snapshot intake, active alerts and history.
    Rules, channels and silences are managed through ``config``."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
        node_id: str = UNCLAIMED_NODE,
    ) -> None:
        self.database = database
        self.repository = AlertRepository(database, node_id)
        self._clock = clock
        engine = AlertEngine(
            default_cooldown_s=settings.alert_cooldown_minutes * 60,
            default_repeat_s=settings.alert_repeat_interval_minutes * 60,
            started_at=clock(),
        )
        state = AlertState(settings, self.repository, engine, clock)

        def published_channel(name: str) -> ChannelSpec | None:
            return state.view.channels.get(name)

        self.dispatcher = OutboxDispatcher(
            self.repository,
            published_channel,
            policy=RetryPolicy(
                settings.alert_retry_initial_s,
                settings.alert_retry_max_s,
                settings.alert_delivery_max_age_hours * 3600,
            ),
            clock=clock,
        )
        self.worker = AlertWorker(
            state,
            self.dispatcher,
            watchdog_interval_s=settings.alert_watchdog_interval_s,
            retention_s=settings.alert_history_retention_days * 86400,
            clock=clock,
        )
        self.config = AlertConfiguration(self.worker)
        self.follower: ConfigFollower | None = None
        if isinstance(database, PostgresDatabase):
            self.follower = ConfigFollower(database.url, self.repository, self.worker)

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.time, node: NodeIdentity | None = None
    ) -> AlertManager:
        """Its own connections to the history database (the store's writer belongs to its thread); alert
        state and notifications are ``node``'s (by default the one the data directory names)."""
        node = node or load_node_identity(settings.data_dir, settings.node_name)
        return cls(settings, open_database(settings), clock=clock, node_id=node.id)

    def start(self) -> None:
        self.dispatcher.start()
        self.worker.start()
        if self.follower is not None:
            self.follower.start()
        try:
            resumed = self.dispatcher.resume()
        except DatabaseUnavailableError as error:
            log.warning("undelivered alert notifications wait for the database: %s", error)
            return
        if resumed:
            log.info("resuming %d undelivered alert notifications", resumed)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.follower is not None:
            self.follower.stop(timeout_s)
        self.worker.stop(timeout_s)
        self.dispatcher.stop()
        self.database.close()

    def set_event_publisher(self, publisher: EventPublisher | None) -> None:
        """Where browser notifications go (the live stream's hub); each transition becomes one event."""
        self.worker.set_event_publisher(publisher)

    def ingest(self, snapshot: Snapshot) -> None:
        """A sampler subscriber: never blocks (see ``AlertWorker.ingest``)."""
        self.worker.ingest(snapshot)

    # -- alerts ------------------------------------------------------------------------------------

    def active(self) -> list[dict[str, Any]]:
        """Alerts pending or firing now, as the API shows them."""

        def views(state: AlertState) -> list[dict[str, Any]]:
            now = self._clock()
            silences = state.view.compiled_silences()
            return [alert_view(rule, inst, silences, now) for rule, inst in state.engine.active()]

        return self.worker.call(views)

    def acknowledge(self, alert: str, by: str | None) -> dict[str, Any]:
        parsed = parse_alert_id(alert)
        if parsed is None:
            raise AlertObjectNotFoundError("alert", alert)
        rule_id, key = parsed

        def acknowledge(state: AlertState) -> dict[str, Any] | None:
            instance = state.acknowledge(rule_id, key, by)
            if instance is None:
                return None
            return alert_view(state.view.rules[rule_id], instance, [], self._clock())

        view = self.worker.call(acknowledge)
        if view is None:
            raise AlertObjectNotFoundError("alert", alert)
        return view

    def history(self, query: HistoryFilter) -> tuple[int, list[dict[str, Any]]]:
        try:
            return self.repository.history(query)
        except DatabaseUnavailableError as error:
            raise AlertsUnavailableError(f"Alert history unavailable: {error}") from error

    def test_channel(self, name: str) -> None:
        """Send a sample notification now, bypassing the outbox; a failure reports only the receiver's
        status (see ``failure_status``)."""
        channel = self.config.channel(name)
        now = self._clock()
        rule = RuleSpec(id="test", name="Test notification", metric="host.cpu_pct", threshold=0)
        transition = Transition(
            id=f"test-{int(now)}",
            rule=rule,
            key=HOST_KEY,
            state="firing",
            previous="inactive",
            kind="firing",
            value=0.0,
            threshold=0.0,
            timestamp=now,
            active_since=now,
            notify=True,
        )
        try:
            self.dispatcher.send_now(channel, f"{transition.id}:{name}", transition.payload())
        except Exception as error:
            raise ChannelFailedError(f"Channel {name!r} failed: {failure_status(error)}") from error
