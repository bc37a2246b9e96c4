"""A hub's copy of the fleet: every node's latest live state, in memory, kept fresh by LISTEN/NOTIFY.

One thread owns the copy. It listens on its own connection, gathers the node ids notified within a
short window, reads just those rows, and publishes a new immutable mapping, so requests read it without
a lock or a database round trip. A full load at start and after every reconnection, and a comparison of
heartbeats every ``reload_interval_s``, repair anything a lost notification would have left behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import psycopg

from gpu_sentinel.fleet.live import LiveRecord, NodeLive
from gpu_sentinel.store.listener import ChannelListener
from gpu_sentinel.store.live import LIVE_CHANNEL, SELECT_ALL, SELECT_HEARTBEATS, SELECT_SOME

log = logging.getLogger(__name__)
GATHER_S = 0.05
MAX_GATHER = 5000
RELOAD_INTERVAL_S = 5.0

Listener = Callable[[Sequence[NodeLive]], None]


class FleetHub(ChannelListener):
    """The fleet's latest state, read from ``url``; ``nodes`` is safe to read from any thread.
    ``listening`` is set once the whole fleet is loaded."""

    thread_name = "fleet-hub"
    heard = "fleet live states"

    def __init__(self, url: str, *, reload_interval_s: float = RELOAD_INTERVAL_S) -> None:
        super().__init__(url, LIVE_CHANNEL)
        self.reload_interval_s = reload_interval_s
        self._nodes: Mapping[str, NodeLive] = MappingProxyType({})
        self._listeners: list[Listener] = []
        self.updates = 0

    @property
    def nodes(self) -> Mapping[str, NodeLive]:
        """Node id to its latest state: an immutable mapping, replaced whole on every update."""
        return self._nodes

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (on the hub's thread; it must not block) with the nodes of each update.
        Subscribe before ``start``."""
        self._listeners.append(listener)

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        next_reload = time.monotonic() + self.reload_interval_s
        while not self.stopping:
            ids = {n.payload for n in connection.notifies(timeout=GATHER_S, stop_after=MAX_GATHER)}
            if ids:
                rows = connection.execute(SELECT_SOME.encode(), (sorted(ids),)).fetchall()
                self._apply([NodeLive.of(LiveRecord.from_row(row)) for row in rows])
            if time.monotonic() >= next_reload:
                self._repair(connection)
                next_reload = time.monotonic() + self.reload_interval_s

    def _catch_up(self, connection: psycopg.Connection[Any]) -> None:
        """Every node's state, read whole: at start and after a reconnection."""
        rows = connection.execute(SELECT_ALL.encode()).fetchall()
        self._apply([NodeLive.of(LiveRecord.from_row(row)) for row in rows], keep=set())

    def _repair(self, connection: psycopg.Connection[Any]) -> None:
        """Read only the rows whose heartbeat differs from ours (a lost notification) and forget nodes
        whose rows are gone: cheap enough to run often, unlike reading every state again."""
        heartbeats = dict(connection.execute(SELECT_HEARTBEATS.encode()).fetchall())
        nodes = self._nodes
        stale = sorted(
            i for i, beat in heartbeats.items() if i not in nodes or nodes[i].record.heartbeat != beat
        )
        rows = connection.execute(SELECT_SOME.encode(), (stale,)).fetchall() if stale else []
        if rows or set(nodes) - set(heartbeats):
            self._apply([NodeLive.of(LiveRecord.from_row(row)) for row in rows], keep=set(heartbeats))

    def _apply(self, changed: list[NodeLive], *, keep: set[str] | None = None) -> None:
        """Publish ``changed``; with ``keep``, only those node ids (and the changed ones) remain."""
        previous = self._nodes
        if keep is None:
            nodes = dict(previous)
        else:
            nodes = {node_id: node for node_id, node in previous.items() if node_id in keep}
        for node in changed:
            nodes[node.id] = node
        self._nodes = MappingProxyType(nodes)
        self.updates += 1
        fresh = [n for n in changed if n.id not in previous or previous[n.id].record != n.record]
        for listener in self._listeners:
            try:
                listener(fresh)
            except Exception:
                log.exception("a fleet listener failed")
