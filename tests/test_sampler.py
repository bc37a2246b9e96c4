"""The sampler: publishes every snapshot, survives failing sources and subscribers, keeps cadence."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.sampler import Sampler
from gpu_sentinel.snapshot import GPUSample, HostSample, Snapshot


class StaticHost:
    def __init__(self) -> None:
        self.slow_calls = 0

    def sample(self, include_slow: bool) -> HostSample:
        self.slow_calls += include_slow
        return HostSample(hostname="test-host", cpu_pct=12.5)


class FlakyGPUs(SimulatedGPUs):
    """Fails on chosen ticks, as a driver call that throws something unexpected would."""

    def __init__(self, fail_on: set[int]) -> None:
        super().__init__(1, seed=1)
        self.ticks = 0
        self.fail_on = fail_on

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        self.ticks += 1
        if self.ticks in self.fail_on:
            raise RuntimeError("driver hiccup")
        return super().sample(now, include_slow)

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}


def make_sampler(gpus: SimulatedGPUs | None = None, interval_s: float = 0.02, **kwargs: object) -> Sampler:
    return Sampler(
        gpus or SimulatedGPUs(2, seed=1),
        StaticHost(),
        interval_s=interval_s,
        slow_interval_s=kwargs.pop("slow_interval_s", 1.0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_first_snapshot_is_ready_when_start_returns() -> None:
    sampler = make_sampler()
    sampler.start()
    try:
        snapshot = sampler.latest
        assert snapshot is not None and snapshot.seq == 1
        assert snapshot.gpu_available and len(snapshot.gpus) == 2
        assert snapshot.host.hostname == "test-host"
    finally:
        sampler.stop()


def test_subscribers_get_every_snapshot_in_order() -> None:
    received: list[int] = []
    done = threading.Event()

    def collect(snapshot: Snapshot) -> None:
        received.append(snapshot.seq)
        if len(received) >= 10:
            done.set()

    sampler = make_sampler()
    sampler.subscribe(collect)
    sampler.start()
    try:
        assert done.wait(10)
    finally:
        sampler.stop()
    assert received[:10] == list(range(1, 11))


def test_a_failing_subscriber_does_not_starve_the_others() -> None:
    received: list[int] = []

    def broken(_: Snapshot) -> None:
        raise ValueError("subscriber bug")

    sampler = make_sampler()
    sampler.subscribe(broken)
    sampler.subscribe(lambda s: received.append(s.seq))
    sampler.tick()
    sampler.tick()
    assert received == [1, 2]


def test_unsubscribe_stops_delivery() -> None:
    received: list[int] = []
    sampler = make_sampler()
    unsubscribe = sampler.subscribe(lambda s: received.append(s.seq))
    sampler.tick()
    unsubscribe()
    sampler.tick()
    assert received == [1]


def test_a_failing_source_keeps_the_last_snapshot_and_the_loop_alive() -> None:
    sampler = make_sampler(FlakyGPUs(fail_on={2}))
    assert sampler.tick() is not None
    assert sampler.tick() is None
    assert sampler.latest is not None and sampler.latest.seq == 1
    assert sampler.errors == 1
    third = sampler.tick()
    assert third is not None and third.seq == 2


def test_slow_metrics_follow_their_own_cadence() -> None:
    now = [0.0]
    host = StaticHost()
    sampler = Sampler(
        SimulatedGPUs(1, seed=1),
        host,
        interval_s=0.25,
        slow_interval_s=2.0,
        monotonic=lambda: now[0],
    )
    for _ in range(16):  # four seconds of ticks
        sampler.tick()
        now[0] += 0.25
    assert host.slow_calls == 2


def test_the_loop_keeps_its_cadence_without_drift() -> None:
    sampler = make_sampler(interval_s=0.05)
    sampler.start()
    time.sleep(1.0)
    sampler.stop()
    latest = sampler.latest
    assert latest is not None
    # A fixed sleep after each tick would lose time every tick; deadlines lose none. Allow for a loaded
    # machine by counting missed deadlines as ticks.
    assert latest.seq + sampler.overruns >= 15


def test_snapshot_records_its_collection_cost() -> None:
    snapshot = make_sampler().tick()
    assert snapshot is not None
    assert snapshot.cost.gpu_seconds >= 0 and snapshot.cost.host_seconds >= 0
