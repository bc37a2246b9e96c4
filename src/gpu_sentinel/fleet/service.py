"""The fleet parts of one running service, made from Settings: the live-state publisher (with a shared
PostgreSQL), and on a hub the fleet's in-memory state, the per-node streams, the fleet alerts and every
node's alert transitions for its browsers."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gpu_sentinel import __version__
from gpu_sentinel.alerts import AlertManager
from gpu_sentinel.auth.policy import is_loopback
from gpu_sentinel.config import Settings
from gpu_sentinel.fleet.alert_events import FleetAlertEvents
from gpu_sentinel.fleet.alerts import FleetAlerts
from gpu_sentinel.fleet.hub import FleetHub
from gpu_sentinel.fleet.live import NodeLive, StatusBounds
from gpu_sentinel.fleet.local import LocalFleet
from gpu_sentinel.fleet.publisher import LivePublisher
from gpu_sentinel.fleet.stream import NodeStreams
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import Snapshot

Subscribe = Callable[[Callable[[Snapshot], None]], Callable[[], None]]


class FleetSource(Protocol):
    @property
    def nodes(self) -> Mapping[str, NodeLive]: ...


def shares_database(settings: Settings) -> bool:
    return bool(settings.database_url) and not str(settings.database_url).startswith("sqlite:")


def advertised_metrics_url(settings: Settings) -> str:
    """GPU_SENTINEL_ADVERTISE_URL, else this service's own address (its host name when bound to every
    address, since 0.0.0.0 is nobody's address)."""
    if settings.advertise_url:
        return settings.advertise_url
    host = settings.host
    if host in ("0.0.0.0", "::", "") and not is_loopback(host):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/metrics"


class Fleet:
    """What this service contributes to and shows of the fleet."""

    def __init__(
        self,
        settings: Settings,
        node: NodeIdentity,
        latest: Callable[[], Snapshot | None],
        alerts_firing: Callable[[], int | None],
        alerts: AlertManager | None = None,
        *,
        publish_alert_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.node = node
        self.bounds = StatusBounds(settings.fleet_online_within_s, settings.fleet_offline_after_s)
        metrics_url = advertised_metrics_url(settings)
        url = settings.database_url if shares_database(settings) else None
        self.publisher = (
            LivePublisher(
                url,
                node,
                version=__version__,
                metrics_url=metrics_url,
                interval_s=settings.fleet_heartbeat_s,
                alerts_firing=alerts_firing,
            )
            if url
            else None
        )
        self.hub: FleetHub | None = None
        self.source: FleetSource | None = None
        self.streams: NodeStreams | None = None
        self.alerts: FleetAlerts | None = None
        self.alert_events: FleetAlertEvents | None = None
        if settings.hub:
            self.streams = NodeStreams(settings.stream_heartbeat_interval)
            if url:
                hub = self.hub = FleetHub(url)
                hub.subscribe(self.streams.on_update)
                self.source = hub
                if alerts is not None:
                    self.alerts = FleetAlerts(
                        url,
                        lambda: hub.nodes,
                        alerts,
                        self.bounds,
                        ready=hub.listening.is_set,
                        default_cooldown_s=settings.alert_cooldown_minutes * 60,
                        default_repeat_s=settings.alert_repeat_interval_minutes * 60,
                    )
                if publish_alert_event is not None:
                    self.alert_events = FleetAlertEvents(url, node.id, lambda: hub.nodes, publish_alert_event)
            else:
                self.source = LocalFleet(
                    latest, node, version=__version__, metrics_url=metrics_url, alerts_firing=alerts_firing
                )
        self._unsubscribe: Callable[[], None] | None = None

    def start(self, subscribe: Subscribe) -> None:
        if self.publisher is not None:
            self._unsubscribe = subscribe(self.publisher.on_snapshot)
            self.publisher.start()
        if self.hub is not None:
            self.hub.start()
        if self.alerts is not None:
            self.alerts.start()
        if self.alert_events is not None:
            self.alert_events.start()

    def stop(self) -> None:
        if self.alert_events is not None:
            self.alert_events.stop()
        if self.alerts is not None:
            self.alerts.stop()
        if self.streams is not None:
            self.streams.close()
        if self.hub is not None:
            self.hub.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.publisher is not None:
            self.publisher.stop()
