"""Delivers the outbox: an event loop on its own thread with one FIFO lane per channel, so a slow or
failing receiver delays only its own notifications, never another channel, the engine or the sampler.

A failed send is retried with exponential backoff and full jitter until the notification is older than
``max_age_s``. A row is marked delivered only while still pending, so each is recorded as sent once;
after a restart every pending row is sent again, and receivers dedupe on its idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

from gpu_sentinel.alerts.notifiers import Notifiers, PermanentDeliveryError
from gpu_sentinel.alerts.repository import AlertRepository, OutboxItem
from gpu_sentinel.alerts.rules import ChannelSpec
from gpu_sentinel.store.database import DatabaseUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial_s: float = 2.0
    max_s: float = 300.0
    max_age_s: float = 24 * 3600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform in [base/2, base] where base doubles per attempt up to ``max_s``."""
        base = min(self.max_s, self.initial_s * 2 ** max(0, attempts - 1))
        return float(base * rng.uniform(0.5, 1.0))


class OutboxDispatcher:
    def __init__(
        self,
        repository: AlertRepository,
        channels: Callable[[str], ChannelSpec | None],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        on_delivered: Callable[[OutboxItem], None] | None = None,
    ) -> None:
        self.repository = repository
        self._channels = channels
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._on_delivered = on_delivered
        self._rng = random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, asyncio.Queue[OutboxItem]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()
        self._notifiers: Notifiers | None = None
        self._ready = threading.Event()
        self.delivered = 0
        self.failed = 0

    def start(self) -> None:
        if self._thread is not None:
            return
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
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._notifiers is not None:
            await self._notifiers.aclose()

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
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

    def run_coroutine(self, coroutine: object) -> Future[object]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]

    @property
    def notifiers(self) -> Notifiers:
        assert self._notifiers is not None
        return self._notifiers

    def _enqueue(self, items: list[OutboxItem]) -> None:
        for item in items:
            if item.id in self._queued:
                continue
            self._queued.add(item.id)
            lane = self._lanes.get(item.channel)
            if lane is None:
                lane = self._lanes[item.channel] = asyncio.Queue()
                self._workers[item.channel] = asyncio.get_running_loop().create_task(
                    self._drain(lane), name=f"alert-channel-{item.channel}"
                )
            lane.put_nowait(item)

    async def _drain(self, lane: asyncio.Queue[OutboxItem]) -> None:
        while True:
            item = await lane.get()
            try:
                await self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivering %s failed unexpectedly", item.id)
            finally:
                self._queued.discard(item.id)

    async def _deliver(self, item: OutboxItem) -> None:
        while True:
            wait = item.next_attempt_at - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            channel = self._channels(item.channel)
            if channel is None:
                await self._record(self.repository.mark_failed, item.id, item.attempts, "channel removed")
                self.failed += 1
                return
            item.attempts += 1
            try:
                notifier = self.notifiers.for_channel(channel)
                await asyncio.wait_for(notifier.send(channel, item.id, item.payload), channel.timeout_s + 1)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                if isinstance(error, PermanentDeliveryError) or (
                    self._clock() - item.created_at >= self.policy.max_age_s
                ):
                    log.error("giving up on %s to %s: %s", item.id, item.channel, reason)
                    await self._record(self.repository.mark_failed, item.id, item.attempts, reason)
                    self.failed += 1
                    return
                item.next_attempt_at = self._clock() + self.policy.delay(item.attempts, self._rng)
                log.warning(
                    "notification %s to %s failed (attempt %d): %s",
                    item.id,
                    item.channel,
                    item.attempts,
                    reason,
                )
                await self._record(
                    self.repository.mark_retry, item.id, item.attempts, item.next_attempt_at, reason
                )
                continue
            await self._record(self.repository.mark_delivered, item.id, self._clock())
            self.delivered += 1
            if self._on_delivered is not None:
                self._on_delivered(item)
            return

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
