"""Every node's alert transitions, and the fleet's, pushed to a hub's browsers as they happen.

Whoever records a transition in the shared database (a node's alert worker, the evaluating hub) sends
``NOTIFY gpu_sentinel_alert`` with its id in the same transaction, so a notification means a committed
transition. Each hub listens on a connection of its own, reads the payloads of the transitions it was
told of and hands each to its live stream, named by its node, as the browser's toasts and notifications
expect. Its own node's transitions reach its browsers directly and are skipped here. A notification
lost while a hub is disconnected is not replayed: the Alerts page's poll shows the state regardless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import psycopg

from gpu_sentinel.alerts.repository import ALERT_CHANNEL
from gpu_sentinel.fleet.live import NodeLive
from gpu_sentinel.store.listener import ChannelListener

log = logging.getLogger(__name__)
GATHER_S = 0.05
MAX_GATHER = 1000
# A node registers its name in ``nodes`` when its history writer first reaches the database, which may
# be before the hub has its first live state (and so its name) when its first alert fires.
SELECT_TRANSITIONS = (
    "SELECT t.node_id, t.payload, t.notify, n.name FROM alert_transitions t "
    "LEFT JOIN nodes n ON n.id = t.node_id WHERE t.id = ANY(%s) ORDER BY t.ts, t.id"
)

EventPublisher = Callable[[dict[str, Any]], None]


class FleetAlertEvents(ChannelListener):
    """Listens for the fleet's alert transitions and publishes each as a stream event."""

    thread_name = "fleet-alert-events"
    heard = "fleet alert transitions"

    def __init__(
        self,
        url: str,
        own_node_id: str,
        nodes: Callable[[], Mapping[str, NodeLive]],
        publish: EventPublisher,
    ) -> None:
        super().__init__(url, ALERT_CHANNEL)
        self.own_node_id = own_node_id
        self._nodes = nodes
        self._publish = publish
        self.published = 0

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        while not self.stopping:
            ids = [n.payload for n in connection.notifies(timeout=GATHER_S, stop_after=MAX_GATHER)]
            if not ids:
                continue
            rows = connection.execute(SELECT_TRANSITIONS.encode(), (ids,)).fetchall()
            nodes = self._nodes()
            for node_id, payload, notify, registered_name in rows:
                if node_id == self.own_node_id:
                    continue
                live = nodes.get(node_id)
                name = live.name if live is not None else registered_name
                try:
                    self._publish(self.event(str(node_id), name, orjson.loads(payload), bool(notify)))
                    self.published += 1
                except Exception:
                    log.exception("publishing a fleet alert event failed")

    @staticmethod
    def event(node_id: str, name: str | None, payload: dict[str, Any], notify: bool) -> dict[str, Any]:
        """A transition as a stream event: its webhook payload, whether it notified, and its node (a
        fleet alert's payload names its node already; a node's own is named here, by its host name
        when the node has not told its name yet)."""
        event = {"type": "alert", **payload, "notify": notify}
        if "node" not in payload:
            event["node"] = {"name": name or payload.get("host"), "id": node_id}
        return event
