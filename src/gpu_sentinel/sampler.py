"""The deadline loop that publishes a Snapshot per tick.

Sleeping to the next deadline (not for a fixed interval) keeps the cadence exact however long a tick
takes; a tick that overruns skips the missed deadlines instead of bursting, and counts them. The GPU
source bounds how long a tick waits for the hardware (each GPU is read on its own workers), so a hung
GPU cannot stop the loop. Requests never touch the hardware: they read ``latest``. Subscribers
(history, alerts, live stream) get every snapshot on this thread and must only enqueue it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from gpu_sentinel.collectors.base import CallStats, GPUSource
from gpu_sentinel.snapshot import CollectionCost, HostSample, Snapshot

log = logging.getLogger(__name__)

Subscriber = Callable[[Snapshot], None]


class HostSource(Protocol):
    def sample(self, include_slow: bool) -> HostSample: ...


class Sampler:
    """Samples ``gpus`` and ``host`` every ``interval_s`` on a background thread."""

    def __init__(
        self,
        gpus: GPUSource,
        host: HostSource,
        *,
        interval_s: float,
        slow_interval_s: float,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        """``monotonic`` and ``wait`` (sleep up to N seconds, True once stopped) are the loop's clock;
        tests replace both to drive it without real time."""
        self.gpus = gpus
        self.host = host
        self.interval_s = interval_s
        self.slow_interval_s = slow_interval_s
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._latest: Snapshot | None = None
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None
        self._next_slow = 0.0
        self._seq = 0
        self._calls_seen = 0
        self.overruns = 0
        self.errors = 0
        self.started_at: float | None = None

    @property
    def latest(self) -> Snapshot | None:
        """The most recent snapshot; replaced atomically, so readers need no lock."""
        return self._latest

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def call_stats(self) -> Mapping[str, CallStats]:
        return self.gpus.call_stats()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every new snapshot; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def start(self) -> None:
        """Take the first snapshot now (so the API has data from its first request), then run."""
        if self._thread is not None:
            return
        self.started_at = self._wall_clock()
        self._stop.clear()
        self.tick()
        self._thread = threading.Thread(target=self._run, name="gpu-sentinel-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        deadline = self._monotonic() + self.interval_s
        while not self._wait(max(0.0, deadline - self._monotonic())):
            self.tick()
            deadline += self.interval_s
            behind = self._monotonic() - deadline
            if behind > 0:
                missed = int(behind // self.interval_s) + 1
                self.overruns += missed
                deadline += missed * self.interval_s

    def tick(self) -> Snapshot | None:
        """Take one snapshot and publish it. Errors are logged; the loop never dies of one."""
        try:
            snapshot = self._take_snapshot()
        except Exception:
            self.errors += 1
            log.exception("sampling failed; keeping the previous snapshot")
            return None
        self._latest = snapshot
        for subscriber in self._subscribers:
            try:
                subscriber(snapshot)
            except Exception:
                log.exception("snapshot subscriber %r failed", subscriber)
        return snapshot

    def _take_snapshot(self) -> Snapshot:
        now_monotonic = self._monotonic()
        include_slow = now_monotonic >= self._next_slow
        if include_slow:
            self._next_slow = now_monotonic + self.slow_interval_s
        timestamp = self._wall_clock()

        gpus = self.gpus.sample(timestamp, include_slow)
        gpu_done = self._monotonic()
        host = self.host.sample(include_slow)
        host_done = self._monotonic()
        # Every call since the previous snapshot, including slow reads that finished in between.
        calls = _total_calls(self.gpus.call_stats())
        calls_since, self._calls_seen = calls - self._calls_seen, calls

        self._seq += 1
        return Snapshot(
            seq=self._seq,
            timestamp=timestamp,
            gpu_available=self.gpus.available and bool(gpus),
            gpus=gpus,
            host=host,
            cost=CollectionCost(
                gpu_seconds=gpu_done - now_monotonic,
                host_seconds=host_done - gpu_done,
                nvml_calls=calls_since,
            ),
            gpu_status=self.gpus.status,
        )


def _total_calls(stats: Mapping[str, CallStats]) -> int:
    return sum(s.calls for s in stats.values())
