"""Delivers the outbox: an event loop on its own thread with one FIFO lane per channel, so a slow or
failing receiver delays only its own notifications, never another channel, the engine or the sampler.

Backoff belongs to the lane, not to one notification: while a receiver fails, only the lane's oldest
notification is retried (exponential backoff with jitter), a new notification for the lane retries it
at once (at most once per ``PROBE_GAP_S``), and the first success sends everything behind it straight
away, so a receiver that returns is drained within a retry interval or at the next alert. A
notification is given up once older than ``max_age_s``. A row is marked delivered only while still
pending, so each is recorded as sent once; after a restart every pending row is sent again (receivers
dedupe on its idempotency key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.notifiers import Notifiers, PermanentDeliveryError, excerpt
from gpu_sentinel.alerts.repository import AlertRepository, OutboxItem
from gpu_sentinel.store.database import DatabaseUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
REASON_CHARS = 200
PROBE_GAP_S = 1.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float = 2.0
    max_s: float = 300.0
    max_age_s: float = 24 * 3600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform in [base/2, base] where base doubles per attempt up to ``max_s``."""
        base = min(self.max_s, self.initial_s * 2 ** max(0, attempts - 1))
        return float(base * rng.uniform(0.5, 1.0))


@dataclass(eq=False)
class _Lane:
    """One channel's notifications, oldest first, and how long its failing receiver is left alone."""

    items: deque[OutboxItem] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failures: int = 0
    retry_at: float = 0.0
    last_attempt_at: float = float("-inf")
    sending: bool = False
    arrived_while_sending: bool = False


class OutboxDispatcher:
    def __init__(
        self,
        repository: AlertRepository,
        channels: Callable[[str], ChannelSpec | None],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repository = repository
        self._channels = channels
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._rng = random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, _Lane] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()
        self._notifiers: Notifiers | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="gpu-sentinel-alert-delivery", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._notifiers = Notifiers()
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _shutdown(self) -> None:
        # Cancel until every lane has ended: asyncio.wait_for before Python 3.12 can lose a cancellation
        # that arrives as its inner call completes (gh-86296), and a lane that lived on would keep sending
        # after stop(), beside the next process that resumes the same notifications.
        workers: set[asyncio.Task[None]] = set(self._workers.values())
        while workers:
            for lane in self._lanes.values():
                lane.wake.set()
            for task in workers:
                task.cancel()
            _, workers = await asyncio.wait(workers, timeout=0.1)
        if self._notifiers is not None:
            await self._notifiers.aclose()

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping.set()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("alert delivery did not stop within %g s; it sends nothing more", timeout_s)
        self._thread = None
        self._loop = None
        self._ready.clear()

    def submit(self, items: Iterable[OutboxItem]) -> None:
        """Queue notifications from any thread; returns at once."""
        batch = list(items)
        if batch and self._loop is not None:
            self._loop.call_soon_threadsafe(self._enqueue, batch)

    def resume(self) -> int:
        """Queue every notification still pending in the database (after a restart); returns how many."""
        pending = self.repository.pending_outbox()
        self.submit(pending)
        return len(pending)

    def idle(self) -> bool:
        return not self._queued

    def send_now(self, channel: ChannelSpec, key: str, payload: dict[str, Any]) -> None:
        """Send one notification outside the outbox (a channel test), from any thread; raises its error."""
        notifier = self.notifiers.for_channel(channel)
        self._run_coroutine(notifier.send(channel, key, payload)).result(channel.timeout_s + 2)

    def _run_coroutine(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    @property
    def notifiers(self) -> Notifiers:
        assert self._notifiers is not None
        return self._notifiers

    # -- on the delivery loop ----------------------------------------------------------------------

    def _enqueue(self, items: list[OutboxItem]) -> None:
        now = self._clock()
        for item in items:
            if item.id in self._queued:
                continue
            self._queued.add(item.id)
            lane = self._lanes.get(item.channel)
            if lane is None:
                lane = self._lanes[item.channel] = _Lane()
                self._workers[item.channel] = asyncio.get_running_loop().create_task(
                    self._drain(lane), name=f"alert-channel-{item.channel}"
                )
            lane.items.append(item)
            if lane.sending:
                lane.arrived_while_sending = True  # the attempt's outcome decides when to look again
            elif lane.failures:
                # New work is a reason to look again: the receiver may be back.
                lane.retry_at = min(lane.retry_at, max(now, lane.last_attempt_at + PROBE_GAP_S))
            lane.wake.set()

    async def _drain(self, lane: _Lane) -> None:
        while not self._stopping.is_set():
            wait = lane.retry_at - self._clock()
            if not lane.items or wait > 0:
                lane.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.wake.wait(), wait if lane.items else None)
                continue
            item = lane.items[0]
            try:
                settled = await self._attempt(lane, item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivering %s failed unexpectedly", item.id)
                settled = True
            if settled:
                lane.items.popleft()
                self._queued.discard(item.id)

    async def _attempt(self, lane: _Lane, item: OutboxItem) -> bool:
        """Try the lane's oldest notification once; True when it is settled (delivered or given up)."""
        if self._stopping.is_set():
            return False
        channel = self._channels(item.channel)
        if channel is None:
            await self._record(self.repository.mark_failed, item.id, item.attempts, "channel removed")
            return True
        item.attempts += 1
        lane.last_attempt_at = self._clock()
        lane.sending, lane.arrived_while_sending = True, False
        try:
            notifier = self.notifiers.for_channel(channel)
            await asyncio.wait_for(notifier.send(channel, item.id, item.payload), channel.timeout_s + 1)
        except Exception as error:
            lane.sending = False
            return await self._failed(lane, item, channel, error)
        lane.sending = False
        lane.failures, lane.retry_at = 0, 0.0
        await self._record(self.repository.mark_delivered, item.id, self._clock())
        return True

    async def _failed(self, lane: _Lane, item: OutboxItem, channel: ChannelSpec, error: Exception) -> bool:
        # Receivers and servers choose what their errors say: one escaped line, no credential.
        described = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        reason = excerpt(channel.redact(described), REASON_CHARS)
        if isinstance(error, PermanentDeliveryError):
            lane.failures, lane.retry_at = 0, 0.0
        else:
            lane.failures += 1
            lane.retry_at = self._clock() + self.policy.delay(lane.failures, self._rng)
            if lane.arrived_while_sending:  # new work came while this attempt was on the wire
                lane.retry_at = min(lane.retry_at, lane.last_attempt_at + PROBE_GAP_S)
        if isinstance(error, PermanentDeliveryError) or (
            self._clock() - item.created_at >= self.policy.max_age_s
        ):
            log.error("giving up on %s to %s: %s", item.id, item.channel, reason)
            await self._record(self.repository.mark_failed, item.id, item.attempts, reason)
            return True
        item.next_attempt_at = lane.retry_at
        log.warning(
            "notification %s to %s failed (attempt %d): %s", item.id, item.channel, item.attempts, reason
        )
        await self._record(self.repository.mark_retry, item.id, item.attempts, item.next_attempt_at, reason)
        return False

    async def _record(self, write: Callable[..., None], *args: object) -> None:
        """Write an outcome off the loop; while the database is down, keep trying rather than resend."""
        delay = self.policy.initial_s
        while True:
            try:
                await asyncio.to_thread(write, *args)
                return
            except DatabaseUnavailableError as error:
                log.warning("cannot record a delivery outcome yet: %s", error)
                await asyncio.sleep(delay)
                delay = min(self.policy.max_s, delay * 2)
