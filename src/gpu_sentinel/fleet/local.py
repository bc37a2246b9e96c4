"""The fleet of a hub without a shared database (SQLite): this node alone, read from memory.

It goes through the same rendering as a node's published state, so the fleet API answers the same way
whatever the backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType

from gpu_sentinel.fleet.live import LiveRecord, NodeLive
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import Snapshot


class LocalFleet:
    """``nodes`` from the latest snapshot, rebuilt when a new one has arrived."""

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        node: NodeIdentity,
        *,
        version: str,
        metrics_url: str,
        alerts_firing: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._latest = latest
        self._node = node
        self._version = version
        self._metrics_url = metrics_url
        self._alerts_firing = alerts_firing
        self._lock = threading.Lock()
        self._built: tuple[int, Mapping[str, NodeLive]] | None = None

    @property
    def nodes(self) -> Mapping[str, NodeLive]:
        snapshot = self._latest()
        if snapshot is None:
            return MappingProxyType({})
        with self._lock:
            if self._built is None or self._built[0] != snapshot.seq:
                record = LiveRecord.of(
                    snapshot,
                    self._node,
                    version=self._version,
                    metrics_url=self._metrics_url,
                    alerts_firing=self._alerts_firing(),
                    now=snapshot.timestamp,
                )
                self._built = (snapshot.seq, MappingProxyType({self._node.id: NodeLive.of(record)}))
            return self._built[1]
