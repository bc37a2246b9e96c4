"""The sampler: publishes every snapshot, survives failing sources and subscribers, keeps cadence."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

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


class FakeTime:
    """The loop's clock and sleep: each wait moves time on by exactly what was asked, then the loop
    stops after ``waits`` of them."""

    def __init__(self, waits: int) -> None:
        self.now = 100.0
        self.waits: list[float] = []
        self._limit = waits

    def monotonic(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return len(self.waits) > self._limit


class TimedGPUs(SimulatedGPUs):
    """Takes ``costs_s[tick]`` of fake time per sample (the last one repeats) and makes 5 NVML calls."""

    def __init__(self, clock: FakeTime, costs_s: list[float]) -> None:
        super().__init__(1, seed=1)
        self.clock = clock
        self.costs_s = costs_s
        self.started_at: list[float] = []
        self.calls = CallStats()

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        self.started_at.append(self.clock.now)
        self.clock.now += self.costs_s[min(len(self.started_at), len(self.costs_s)) - 1]
        self.calls.calls += 5
        return super().sample(now, include_slow)

    def call_stats(self) -> Mapping[str, CallStats]:
        return {"nvmlDeviceGetUtilizationRates": CallStats(self.calls.calls)}


def run_loop(clock: FakeTime, gpus: TimedGPUs) -> Sampler:
    sampler = Sampler(
        gpus,
        StaticHost(),
        interval_s=0.25,
        slow_interval_s=2.0,
        monotonic=clock.monotonic,
        wait=clock.wait,
    )
    sampler.start()
    sampler.stop()  # returns once the fake wait has ended the loop
    return sampler


def test_the_loop_sleeps_to_deadlines_so_slow_ticks_do_not_drift() -> None:
    clock = FakeTime(waits=8)
    gpus = TimedGPUs(clock, costs_s=[0.1])
    sampler = run_loop(clock, gpus)

    # A fixed 0.25 s sleep after each 0.1 s tick would start ticks 0.35 s apart.
    assert gpus.started_at == pytest.approx([100.0] + [100.1 + 0.25 * k for k in range(1, 9)])
    assert clock.waits[1:] == pytest.approx([0.15] * 8)
    assert sampler.overruns == 0
    assert sampler.latest is not None and sampler.latest.seq == 9


def test_an_overrunning_tick_skips_the_missed_deadlines_instead_of_bursting() -> None:
    clock = FakeTime(waits=5)
    gpus = TimedGPUs(clock, costs_s=[0.01, 0.01, 0.6, 0.01])  # the third tick takes 2.4 intervals
    sampler = run_loop(clock, gpus)

    assert sampler.overruns == 2
    gaps = [round(b - a, 6) for a, b in zip(gpus.started_at[1:], gpus.started_at[2:], strict=False)]
    assert gaps == [0.25, 0.75, 0.25, 0.25]  # back on the same 250 ms grid, two slots skipped
    assert all(wait >= 0 for wait in clock.waits)


def test_snapshot_records_its_collection_cost() -> None:
    clock = FakeTime(waits=0)
    gpus = TimedGPUs(clock, costs_s=[0.03])

    class SlowHost(StaticHost):
        def sample(self, include_slow: bool) -> HostSample:
            clock.now += 0.01
            return super().sample(include_slow)

    sampler = Sampler(gpus, SlowHost(), interval_s=0.25, slow_interval_s=2.0, monotonic=clock.monotonic)
    sampler.tick()
    snapshot = sampler.tick()
    assert snapshot is not None
    assert snapshot.cost.gpu_seconds == pytest.approx(0.03)
    assert snapshot.cost.host_seconds == pytest.approx(0.01)
    assert snapshot.cost.nvml_calls == 5  # the calls since the previous snapshot
