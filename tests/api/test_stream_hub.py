"""The stream hub's fan-out: one render per distinct subscription, and backpressure per subscriber."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import orjson
import pytest

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.sampler import Sampler
from gpu_sentinel.snapshot import HostSample, Snapshot
from gpu_sentinel.stream import StreamFullError, StreamHub, Subscription


class _Host:
    def sample(self, include_slow: bool) -> HostSample:
        return HostSample(hostname="test", cpu_pct=10.0)


def _sampler() -> Sampler:
    clock = itertools.count(1000.0, 0.25)
    return Sampler(
        SimulatedGPUs(2, seed=1, xid_mean_interval_s=1e12),
        _Host(),
        interval_s=0.25,
        slow_interval_s=1.0,
        wall_clock=lambda: next(clock),
    )


def _take(sampler: Sampler) -> Snapshot:
    snapshot = sampler.tick()
    assert snapshot is not None
    return snapshot


async def _until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.001)


async def test_a_stuck_subscriber_never_delays_a_fast_one() -> None:
    sampler = _sampler()
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60)
    fast: list[dict[str, object]] = []
    stuck_calls = 0
    never = asyncio.Event()

    async def fast_send(frame: str) -> None:
        fast.append(orjson.loads(frame))

    async def stuck_send(frame: str) -> None:
        nonlocal stuck_calls
        stuck_calls += 1
        await never.wait()

    tasks = [
        asyncio.create_task(hub.serve(fast_send, Subscription())),
        asyncio.create_task(hub.serve(stuck_send, Subscription())),
    ]
    await _until(lambda: hub.subscribers == 2)
    for count in range(1, 21):
        hub.on_snapshot(_take(sampler))
        await _until(lambda: len(fast) == count)  # noqa: B023
    assert [frame["seq"] for frame in fast] == list(range(1, 21))
    assert stuck_calls == 1
    assert hub.frames_rendered == 20
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert hub.subscribers == 0


async def test_each_distinct_subscription_is_rendered_once_per_snapshot() -> None:
    sampler = _sampler()
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60)
    received: list[str] = []

    async def send(frame: str) -> None:
        received.append(frame)

    subscriptions = [Subscription()] * 5 + [Subscription(gpus=(1,))] * 5
    tasks = [asyncio.create_task(hub.serve(send, s)) for s in subscriptions]
    await _until(lambda: hub.subscribers == 10)
    hub.on_snapshot(_take(sampler))
    await _until(lambda: len(received) == 10)
    assert hub.frames_rendered == 2
    assert len(set(received)) == 2
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_events_are_queued_not_dropped_and_overflow_disconnects() -> None:
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60, max_events=3)
    release = asyncio.Event()
    sent: list[dict[str, object]] = []

    async def slow_send(frame: str) -> None:
        await release.wait()
        sent.append(orjson.loads(frame))

    task = asyncio.create_task(hub.serve(slow_send, Subscription()))
    await _until(lambda: hub.subscribers == 1)
    hub.publish_event({"n": 0})
    await asyncio.sleep(0.01)  # the subscriber is now stuck sending event 0
    for n in (1, 2, 3):
        hub.publish_event({"n": n})
    await asyncio.sleep(0.01)
    release.set()
    await _until(lambda: len(sent) == 4)
    assert [event["n"] for event in sent] == [0, 1, 2, 3]

    release.clear()
    for n in range(4, 9):
        hub.publish_event({"n": n})
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.wait_for(task, 2) == "events_overflow"


async def test_heartbeat_after_silence_and_close_ends_every_subscriber() -> None:
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=0.02)
    sent: list[dict[str, object]] = []

    async def send(frame: str) -> None:
        sent.append(orjson.loads(frame))

    task = asyncio.create_task(hub.serve(send, Subscription()))
    await _until(lambda: len(sent) >= 2)
    assert {frame["type"] for frame in sent} == {"heartbeat"}
    hub.close()
    assert await asyncio.wait_for(task, 2) == "closing"


async def test_subscriber_limit() -> None:
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60, max_clients=1)

    async def send(frame: str) -> None:
        return None

    task = asyncio.create_task(hub.serve(send, Subscription()))
    await _until(lambda: hub.subscribers == 1)
    with pytest.raises(StreamFullError):
        await hub.serve(send, Subscription())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
