"""Live stream fan-out: every snapshot rendered once per distinct subscription and handed to each
subscriber's one-frame slot, so a slow subscriber misses frames and never delays the others or the
sampler. Events (alert transitions) queue separately and are never dropped; a subscriber that cannot
keep up even with those is disconnected so it can reconnect and catch up.
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

from gpu_sentinel import models, views
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


class StreamFullError(SentinelError):
    status_code = 503
    code = "stream_full"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The live stream already serves its maximum of {limit} subscribers")


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one subscriber wants: some GPUs (None: all), some fields (None: all), at most ``rate_hz``."""

    gpus: tuple[int, ...] | None = None
    fields: frozenset[str] | None = None
    rate_hz: float | None = None

    @property
    def key(self) -> tuple[tuple[int, ...] | None, frozenset[str] | None]:
        return self.gpus, self.fields

    @classmethod
    def parse(
        cls, gpus: str | None, fields: str | None, rate: str | None, max_rate_hz: float
    ) -> Subscription:
        """From the stream's query parameters, with messages that say what is allowed."""
        return cls(_parse_gpus(gpus), _parse_fields(fields), _parse_rate(rate, max_rate_hz))


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
        self._frames: dict[Any, str] = {}
        self._gpus: list[dict[str, Any]] = []
        self._processes: list[dict[str, Any]] = []
        self._system: dict[str, Any] | None = None

    def get(self, subscription: Subscription) -> str:
        frame = self._frames.get(subscription.key)
        if frame is None:
            frame = self._frames[subscription.key] = self._render(subscription)
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

    def _render(self, subscription: Subscription) -> str:
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
        return orjson.dumps(frame).decode()


class _Client:
    __slots__ = (
        "closed",
        "events",
        "frame",
        "last_frame_at",
        "min_interval_s",
        "overflowed",
        "subscription",
        "wake",
    )

    def __init__(self, subscription: Subscription, sampler_interval_s: float) -> None:
        self.subscription = subscription
        interval = 1.0 / subscription.rate_hz if subscription.rate_hz else 0.0
        self.min_interval_s = max(0.0, interval - RATE_TOLERANCE * sampler_interval_s)
        self.frame: str | None = None
        self.events: deque[str] = deque()
        self.last_frame_at = float("-inf")
        self.wake = asyncio.Event()
        self.closed = False
        self.overflowed = False


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
        self._loop: asyncio.AbstractEventLoop | None = None
        self.frames_rendered = 0

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

    async def serve(self, send: Send, subscription: Subscription) -> str | None:
        """Feed one subscriber until the hub closes or ``send`` fails; returns why it stopped."""
        self._loop = asyncio.get_running_loop()
        self.check_capacity()
        client = _Client(subscription, self.sampler_interval_s)
        self._clients.add(client)
        try:
            latest = self._latest()
            if latest is not None:
                self._offer(client, _Frames(latest))
            return await self._pump(client, send)
        finally:
            self._clients.discard(client)

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
                await send(frame)
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
        for client in self._clients:
            self._offer(client, frames)
        self.frames_rendered += frames.rendered

    @staticmethod
    def _offer(client: _Client, frames: _Frames) -> None:
        timestamp = frames.snapshot.timestamp
        if timestamp - client.last_frame_at < client.min_interval_s:
            return
        client.frame = frames.get(client.subscription)
        client.last_frame_at = timestamp
        client.wake.set()

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
