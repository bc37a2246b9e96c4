"""The live stream of one chosen node on a hub (``/api/v1/stream?node=NAME``): each state the hub hears
of is rendered once per distinct subscription and put in each subscriber's one-frame slot, so a slow
subscriber misses frames and never delays the hub or the others (as the local stream does). Frames are
numbered per subscription; in incremental mode the delta from the previous frame is computed once per
subscription too, and a subscriber that missed the previous frame gets the full one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from gpu_sentinel.fleet.live import NodeLive
from gpu_sentinel.stream import Outgoing, Resync, delta_frame

Send = Callable[[str], Awaitable[None]]
Key = tuple[str, tuple[int, ...] | None]


def node_document(node: NodeLive, gpus: tuple[int, ...] | None, seq: int) -> dict[str, Any]:
    """The local stream's snapshot frame, for ``node``, plus the node's name and id."""
    state = node.state()
    gpu_list: list[dict[str, Any]] = state.get("gpus", [])
    processes: list[dict[str, Any]] = state.get("gpu_processes", [])
    if gpus is not None:
        wanted = set(gpus)
        gpu_list = [gpu for gpu in gpu_list if gpu["gpu_id"] in wanted]
        processes = [process for process in processes if process.get("gpu_id") in wanted]
    return {
        "type": "snapshot",
        "seq": seq,
        "node": node.name,
        "node_id": node.id,
        "timestamp": node.timestamp,
        "heartbeat": node.record.heartbeat,
        "gpu_available": state.get("gpu_available", False),
        "gpus": gpu_list,
        "gpu_processes": processes,
        "system_metrics": state.get("system_metrics", {}),
    }


class _Feed:
    """One node and GPU subset: its last frame, numbered, with the delta from the one before."""

    __slots__ = ("document", "frame", "members")

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None
        self.frame: Outgoing | None = None
        self.members = 0

    def advance(self, node: NodeLive, gpus: tuple[int, ...] | None) -> Outgoing:
        previous, base = self.frame, self.document
        seq = previous.seq + 1 if previous is not None else 1
        document = node_document(node, gpus, seq)
        full = orjson.dumps(document).decode()
        delta = None
        if previous is not None and base is not None:
            delta = delta_frame(seq, previous.seq, base, document)
        self.document = document
        self.frame = Outgoing(seq, full, delta, previous.seq if previous is not None else None)
        return self.frame


class _Subscriber:
    __slots__ = ("closed", "delta", "frame", "gpus", "node_id", "sent_seq", "wake")

    def __init__(self, node_id: str, gpus: tuple[int, ...] | None, delta: bool) -> None:
        self.node_id = node_id
        self.gpus = gpus
        self.delta = delta
        self.frame: Outgoing | None = None
        self.sent_seq: int | None = None
        self.wake = asyncio.Event()
        self.closed = False

    @property
    def key(self) -> Key:
        return self.node_id, self.gpus

    def next_text(self, frame: Outgoing) -> str:
        text = frame.text_for(self.sent_seq) if self.delta else frame.full
        self.sent_seq = frame.seq
        return text


class NodeStreams:
    """Subscribers of single nodes' states. Lives on one event loop; the hub's thread hands updates over
    with ``call_soon_threadsafe``."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self._subscribers: set[_Subscriber] = set()
        self._feeds: dict[Key, _Feed] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def on_update(self, changed: Sequence[NodeLive]) -> None:
        """Hub listener: runs on the hub's thread, so it only schedules the fan-out."""
        self._call_on_loop(self._fan_out, list(changed))

    def close(self) -> None:
        self._call_on_loop(self._close_all)

    async def serve(
        self,
        send: Send,
        node: NodeLive,
        gpus: tuple[int, ...] | None,
        *,
        delta: bool = False,
        resync: Resync | None = None,
    ) -> str | None:
        """Feed one subscriber ``node``'s states, starting with the latest, until closed or ``send`` fails."""
        self._loop = asyncio.get_running_loop()
        subscriber = _Subscriber(node.id, gpus, delta)
        feed = self._feeds.setdefault(subscriber.key, _Feed())
        feed.members += 1
        subscriber.frame = (feed.frame or feed.advance(node, gpus)).as_full()
        subscriber.wake.set()
        if resync is not None:
            resync.bind(lambda: self._resync(subscriber))
        self._subscribers.add(subscriber)
        try:
            while True:
                try:
                    await asyncio.wait_for(subscriber.wake.wait(), self.heartbeat_s)
                except TimeoutError:
                    await send(orjson.dumps({"type": "heartbeat", "timestamp": time.time()}).decode())
                    continue
                subscriber.wake.clear()
                frame, subscriber.frame = subscriber.frame, None
                if frame is not None:
                    await send(subscriber.next_text(frame))
                if subscriber.closed:
                    return "closing"
        finally:
            self._subscribers.discard(subscriber)
            feed.members -= 1
            if feed.members <= 0:
                self._feeds.pop(subscriber.key, None)

    def _call_on_loop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or not self._subscribers:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            loop.call_soon_threadsafe(callback, *args)

    def _fan_out(self, changed: list[NodeLive]) -> None:
        by_id = {node.id: node for node in changed}
        advanced: dict[Key, Outgoing] = {}
        for subscriber in self._subscribers:
            node = by_id.get(subscriber.node_id)
            if node is None:
                continue
            key = subscriber.key
            frame = advanced.get(key)
            if frame is None:
                frame = advanced[key] = self._feeds[key].advance(node, subscriber.gpus)
            subscriber.frame = frame
            subscriber.wake.set()

    def _resync(self, subscriber: _Subscriber) -> None:
        subscriber.sent_seq = None
        feed = self._feeds.get(subscriber.key)
        if subscriber.frame is None and feed is not None and feed.frame is not None:
            subscriber.frame = feed.frame.as_full()
        subscriber.wake.set()

    def _close_all(self) -> None:
        for subscriber in self._subscribers:
            subscriber.closed = True
            subscriber.wake.set()
