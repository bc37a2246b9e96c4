"""Live stream fan-out: every snapshot rendered once per distinct subscription and handed to each
subscriber's one-frame slot, so a slow subscriber misses frames and never delays the others or the
sampler. Events (alert transitions) queue separately and are never dropped; a subscriber that cannot
keep up even with those is disconnected so it can reconnect and catch up.

In incremental mode (``mode=delta``) subscribers with the same subscription and rate form a group that
advances together: each of its frames is diffed once against the group's previous one (``json_delta``),
and a subscriber gets that delta only when the previous frame is the last one it was sent; otherwise
(it missed a frame, just connected, or asked to resync) it gets the full frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gpu_sentinel import json_delta, models, views
from gpu_sentinel.errors import InvalidRequestError, SentinelError
from gpu_sentinel.snapshot import Snapshot

GPU_FIELDS = frozenset(models.GPUMetrics.model_fields) - {"gpu_id"}
SECTIONS = frozenset({"processes", "system"})
STREAM_FIELDS = GPU_FIELDS | SECTIONS
MAX_EVENTS_PER_CLIENT = 256
# A frame is due when its snapshot comes at least the client's interval, less this fraction of the
# sampler's interval, after the last one: jitter in the sampler's timestamps never makes a client skip one.
RATE_TOLERANCE = 0.5

Send = Callable[[str], Awaitable[None]]
MODES = ("full", "delta")


class StreamFullError(SentinelError):
    status_code = 503
    code = "stream_full"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The live stream already serves its maximum of {limit} subscribers")


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one subscriber wants: some GPUs (None: all), some fields (None: all), at most ``rate_hz``,
    as full frames or, with ``delta``, a full frame and then only what changed."""

    gpus: tuple[int, ...] | None = None
    fields: frozenset[str] | None = None
    rate_hz: float | None = None
    delta: bool = False

    @property
    def key(self) -> tuple[tuple[int, ...] | None, frozenset[str] | None]:
        return self.gpus, self.fields

    @property
    def group(self) -> tuple[tuple[int, ...] | None, frozenset[str] | None, float | None]:
        return self.gpus, self.fields, self.rate_hz

    @classmethod
    def parse(
        cls,
        gpus: str | None,
        fields: str | None,
        rate: str | None,
        max_rate_hz: float,
        mode: str | None = None,
    ) -> Subscription:
        """From the stream's query parameters, with messages that say what is allowed."""
        return cls(
            _parse_gpus(gpus),
            _parse_fields(fields),
            _parse_rate(rate, max_rate_hz),
            parse_mode(mode),
        )


def parse_mode(text: str | None) -> bool:
    """``mode=full`` (the default) or ``mode=delta``; True for delta."""
    if text is None or text == "full":
        return False
    if text == "delta":
        return True
    raise InvalidRequestError(f"mode: expected {' or '.join(MODES)} (got {text!r})")


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _parse_gpus(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        ids = sorted({int(item) for item in _items(text)})
    except ValueError:
        raise InvalidRequestError(
            f"gpus: expected comma-separated GPU indexes like 0,1 (got {text!r})"
        ) from None
    if not ids or ids[0] < 0 or ids[-1] > 2**15:
        raise InvalidRequestError(f"gpus: expected GPU indexes from 0 to {2**15} (got {text!r})")
    return tuple(ids)


def _parse_fields(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    names = frozenset(_items(text))
    unknown = sorted(names - STREAM_FIELDS)
    if not names or unknown:
        raise InvalidRequestError(
            f"fields: unknown {', '.join(unknown) or 'empty list'}; "
            f"choose from {', '.join(sorted(STREAM_FIELDS))}"
        )
    return names


def _parse_rate(text: str | None, max_rate_hz: float) -> float | None:
    if text is None:
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= max_rate_hz + 1e-9:
        raise InvalidRequestError(
            f"rate: expected frames per second above 0 and at most {max_rate_hz:g} (got {text!r})"
        )
    return rate


class _Frames:
    """One snapshot's frames: its data converted once, then one frame per distinct subscription."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._frames: dict[Any, tuple[dict[str, Any], str]] = {}
        self._gpus: list[dict[str, Any]] = []
        self._processes: list[dict[str, Any]] = []
        self._system: dict[str, Any] | None = None

    def get(self, subscription: Subscription) -> str:
        return self.rendered_for(subscription)[1]

    def rendered_for(self, subscription: Subscription) -> tuple[dict[str, Any], str]:
        """The frame for ``subscription`` as a document and as the text sent."""
        frame = self._frames.get(subscription.key)
        if frame is None:
            document = self._render(subscription)
            frame = self._frames[subscription.key] = (document, orjson.dumps(document).decode())
        return frame

    @property
    def rendered(self) -> int:
        return len(self._frames)

    def _convert(self) -> dict[str, Any]:
        snapshot = self.snapshot
        self._gpus = [views.gpu_metrics(sample).model_dump(mode="json") for sample in snapshot.gpus]
        self._processes = [
            views.gpu_process(process, sample.index).model_dump(mode="json")
            for sample in snapshot.gpus
            for process in sample.processes
        ]
        system = views.system_metrics(snapshot.host, snapshot.timestamp).model_dump(mode="json")
        self._system = system
        return system

    def _render(self, subscription: Subscription) -> dict[str, Any]:
        system = self._system if self._system is not None else self._convert()
        gpus, processes, fields = self._gpus, self._processes, subscription.fields
        if subscription.gpus is not None:
            wanted = set(subscription.gpus)
            gpus = [gpu for gpu in gpus if gpu["gpu_id"] in wanted]
            processes = [process for process in processes if process["gpu_id"] in wanted]
        if fields is not None:
            gpus = [{k: v for k, v in gpu.items() if k == "gpu_id" or k in fields} for gpu in gpus]
        frame: dict[str, Any] = {
            "type": "snapshot",
            "seq": self.snapshot.seq,
            "timestamp": self.snapshot.timestamp,
            "gpu_available": self.snapshot.gpu_available,
            "gpus": gpus,
        }
        if fields is None or "processes" in fields:
            frame["gpu_processes"] = processes
        if fields is None or "system" in fields:
            frame["system_metrics"] = system
        return frame


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A frame waiting in a subscriber's slot: the full frame, and for incremental subscribers the delta
    from frame ``base_seq``, sent instead when that is the frame the subscriber was sent last."""

    seq: int
    full: str
    delta: str | None = None
    base_seq: int | None = None

    def text_for(self, sent_seq: int | None) -> str:
        if self.delta is not None and sent_seq is not None and sent_seq == self.base_seq:
            return self.delta
        return self.full

    def as_full(self) -> Outgoing:
        return Outgoing(self.seq, self.full)


def delta_frame(seq: int, base_seq: int, old: dict[str, Any], new: dict[str, Any]) -> str:
    """The incremental frame that turns frame ``base_seq`` (``old``) into frame ``seq`` (``new``)."""
    patch = json_delta.diff(old, new)
    return orjson.dumps({"type": "delta", "seq": seq, "base_seq": base_seq, "patch": patch}).decode()


class Resync:
    """How the socket's reader asks the pump for a full frame (the client saw a gap in ``seq``)."""

    def __init__(self) -> None:
        self._callback: Callable[[], None] | None = None

    def bind(self, callback: Callable[[], None]) -> None:
        self._callback = callback

    def request(self) -> None:
        if self._callback is not None:
            self._callback()


class _Group:
    """Incremental subscribers with one subscription and rate, and the last frame they were offered."""

    __slots__ = ("document", "frame", "last_frame_at", "members")

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None
        self.frame: Outgoing | None = None
        self.last_frame_at = float("-inf")
        self.members = 0

    def advance(self, seq: int, timestamp: float, document: dict[str, Any], full: str) -> Outgoing:
        """The group's next frame, with its delta from the previous one (computed here, once)."""
        previous, base = self.frame, self.document
        delta = None
        if previous is not None and base is not None:
            delta = delta_frame(seq, previous.seq, base, document)
        self.frame = Outgoing(seq, full, delta, previous.seq if previous is not None else None)
        self.document, self.last_frame_at = document, timestamp
        return self.frame


class _Client:
    __slots__ = (
        "closed",
        "events",
        "frame",
        "last_frame_at",
        "min_interval_s",
        "overflowed",
        "sent_seq",
        "subscription",
        "wake",
    )

    def __init__(self, subscription: Subscription, sampler_interval_s: float) -> None:
        self.subscription = subscription
        interval = 1.0 / subscription.rate_hz if subscription.rate_hz else 0.0
        self.min_interval_s = max(0.0, interval - RATE_TOLERANCE * sampler_interval_s)
        self.frame: Outgoing | None = None
        self.sent_seq: int | None = None
        self.events: deque[str] = deque()
        self.last_frame_at = float("-inf")
        self.wake = asyncio.Event()
        self.closed = False
        self.overflowed = False

    def hand(self, frame: Outgoing, timestamp: float) -> None:
        self.frame = frame
        self.last_frame_at = timestamp
        self.wake.set()


class StreamHub:
    """Subscribers of the live stream. Lives on one event loop; the sampler thread and any other thread
    hand snapshots and events over with ``call_soon_threadsafe``."""

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        *,
        sampler_interval_s: float,
        heartbeat_s: float = 15.0,
        max_clients: int = 1000,
        max_events: int = MAX_EVENTS_PER_CLIENT,
    ) -> None:
        self._latest = latest
        self.sampler_interval_s = sampler_interval_s
        self.heartbeat_s = heartbeat_s
        self.max_clients = max_clients
        self.max_events = max_events
        self._clients: set[_Client] = set()
        self._groups: dict[Any, _Group] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.frames_rendered = 0
        self.deltas_rendered = 0

    @property
    def max_rate_hz(self) -> float:
        return 1.0 / self.sampler_interval_s

    @property
    def subscribers(self) -> int:
        return len(self._clients)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Sampler subscriber: runs on the sampler thread, so it only schedules the fan-out."""
        self._call_on_loop(self._fan_out, snapshot)

    def publish_event(self, event: Mapping[str, Any]) -> None:
        """Send ``event`` (``type`` defaults to ``alert``) to every subscriber; callable from any thread."""
        self._call_on_loop(self._deliver_event, orjson.dumps({"type": "alert", **event}).decode())

    def close(self) -> None:
        """Disconnect every subscriber; callable from any thread."""
        self._call_on_loop(self._close_all)

    def check_capacity(self) -> None:
        if len(self._clients) >= self.max_clients:
            raise StreamFullError(self.max_clients)

    async def serve(self, send: Send, subscription: Subscription, resync: Resync | None = None) -> str | None:
        """Feed one subscriber until the hub closes or ``send`` fails; returns why it stopped."""
        self._loop = asyncio.get_running_loop()
        self.check_capacity()
        client = _Client(subscription, self.sampler_interval_s)
        self._clients.add(client)
        if subscription.delta:
            self._groups.setdefault(subscription.group, _Group()).members += 1
            if resync is not None:
                resync.bind(lambda: self._resync(client))
        try:
            latest = self._latest()
            if latest is not None:
                self._welcome(client, _Frames(latest))
            return await self._pump(client, send)
        finally:
            self._clients.discard(client)
            self._leave(client)

    async def _pump(self, client: _Client, send: Send) -> str | None:
        while True:
            try:
                await asyncio.wait_for(client.wake.wait(), self.heartbeat_s)
            except TimeoutError:
                await send(_heartbeat())
                continue
            client.wake.clear()
            if client.overflowed:
                return "events_overflow"
            while client.events:
                await send(client.events.popleft())
            frame, client.frame = client.frame, None
            if frame is not None:
                text = frame.text_for(client.sent_seq)
                client.sent_seq = frame.seq
                await send(text)
            if client.closed:
                return "closing"

    def _call_on_loop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or not self._clients:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            loop.call_soon_threadsafe(callback, *args)

    def _fan_out(self, snapshot: Snapshot) -> None:
        frames = _Frames(snapshot)
        due: dict[Any, Outgoing | None] = {}
        for client in self._clients:
            if not client.subscription.delta:
                self._offer(client, frames)
                continue
            key = client.subscription.group
            if key not in due:
                due[key] = self._advance(self._groups[key], client, frames)
            frame = due[key]
            timestamp = snapshot.timestamp
            if frame is not None and timestamp - client.last_frame_at >= client.min_interval_s:
                client.hand(frame, timestamp)
        self.frames_rendered += frames.rendered

    def _advance(self, group: _Group, client: _Client, frames: _Frames) -> Outgoing | None:
        """The group's frame for this snapshot, or None when its rate says not yet."""
        snapshot = frames.snapshot
        if snapshot.timestamp - group.last_frame_at < client.min_interval_s:
            return None
        document, full = frames.rendered_for(client.subscription)
        frame = group.advance(snapshot.seq, snapshot.timestamp, document, full)
        if frame.delta is not None:
            self.deltas_rendered += 1
        return frame

    def _welcome(self, client: _Client, frames: _Frames) -> None:
        """A new subscriber's first frame: the latest snapshot, in full."""
        snapshot = frames.snapshot
        document, full = frames.rendered_for(client.subscription)
        client.hand(Outgoing(snapshot.seq, full), snapshot.timestamp)
        group = self._groups.get(client.subscription.group) if client.subscription.delta else None
        if group is not None and group.frame is None:
            group.advance(snapshot.seq, snapshot.timestamp, document, full)

    def _resync(self, client: _Client) -> None:
        """The client lost track: its next frame is a full one (the group's last, if none is waiting)."""
        client.sent_seq = None
        group = self._groups.get(client.subscription.group)
        if client.frame is None and group is not None and group.frame is not None:
            client.frame = group.frame.as_full()
        client.wake.set()

    def _leave(self, client: _Client) -> None:
        if not client.subscription.delta:
            return
        key = client.subscription.group
        group = self._groups.get(key)
        if group is not None:
            group.members -= 1
            if group.members <= 0:
                del self._groups[key]

    @staticmethod
    def _offer(client: _Client, frames: _Frames) -> None:
        timestamp = frames.snapshot.timestamp
        if timestamp - client.last_frame_at < client.min_interval_s:
            return
        client.hand(Outgoing(frames.snapshot.seq, frames.get(client.subscription)), timestamp)

    def _deliver_event(self, message: str) -> None:
        for client in self._clients:
            if len(client.events) >= self.max_events:
                client.overflowed = True
            else:
                client.events.append(message)
            client.wake.set()

    def _close_all(self) -> None:
        for client in self._clients:
            client.closed = True
            client.wake.set()


def _heartbeat() -> str:
    return orjson.dumps({"type": "heartbeat", "timestamp": time.time()}).decode()
