"""The stream hub's fan-out: one render (and one delta) per distinct subscription, and backpressure
per subscriber."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from gpu_sentinel import json_delta
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.sampler import Sampler
from gpu_sentinel.snapshot import HostSample, Snapshot
from gpu_sentinel.stream import Resync, StreamFullError, StreamHub, Subscription


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


class _Replica:
    """What an incremental client does: keep the last full frame and apply each delta to it."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.kinds: list[str] = []

    async def send(self, text: str) -> None:
        message = orjson.loads(text)
        self.kinds.append(message["type"])
        if message["type"] == "snapshot":
            self.frames.append(message)
        elif message["type"] == "delta":
            assert message["base_seq"] == self.frames[-1]["seq"], "a delta from a frame never sent"
            self.frames.append(json_delta.apply(self.frames[-1], message["patch"]))


async def test_incremental_subscribers_rebuild_every_full_frame_from_one_delta_per_snapshot() -> None:
    sampler = _sampler()
    first = _take(sampler)
    hub = StreamHub(lambda: first, sampler_interval_s=0.25, heartbeat_s=60)
    full: list[str] = []

    async def full_send(frame: str) -> None:
        full.append(frame)

    replicas = [_Replica() for _ in range(5)]
    tasks = [asyncio.create_task(hub.serve(full_send, Subscription()))]
    tasks += [asyncio.create_task(hub.serve(r.send, Subscription(delta=True))) for r in replicas]
    await _until(lambda: len(full) == 1 and all(r.frames for r in replicas))
    for count in range(2, 12):
        hub.on_snapshot(_take(sampler))
        await _until(lambda: len(full) == count and all(len(r.frames) == count for r in replicas))  # noqa: B023
    for replica in replicas:
        assert replica.kinds == ["snapshot"] + ["delta"] * 10
        assert [orjson.dumps(f).decode() for f in replica.frames] == full
    assert hub.deltas_rendered == 10, "one delta per snapshot for all five, not one per subscriber"
    assert hub.frames_rendered == 10
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_incremental_subscriber_that_missed_frames_gets_a_full_one_then_deltas() -> None:
    sampler = _sampler()
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60)
    release = asyncio.Event()
    replica = _Replica()

    async def slow_send(text: str) -> None:
        if len(replica.kinds) == 2:
            await release.wait()  # stuck on its third frame while the sampler moves on
        await replica.send(text)

    task = asyncio.create_task(hub.serve(slow_send, Subscription(delta=True)))
    await _until(lambda: hub.subscribers == 1)
    for count in (1, 2):
        hub.on_snapshot(_take(sampler))
        await _until(lambda: len(replica.kinds) == count)  # noqa: B023
    for _ in range(4):  # the third is being sent; the fourth and fifth overwrite each other's slot
        hub.on_snapshot(_take(sampler))
        await asyncio.sleep(0.01)
    release.set()
    await _until(lambda: len(replica.kinds) == 4)
    hub.on_snapshot(_take(sampler))
    await _until(lambda: len(replica.kinds) == 5)
    assert replica.kinds == ["snapshot", "delta", "delta", "snapshot", "delta"]
    assert [f["seq"] for f in replica.frames] == [1, 2, 3, 6, 7]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_resync_request_brings_a_full_frame() -> None:
    sampler = _sampler()
    hub = StreamHub(lambda: None, sampler_interval_s=0.25, heartbeat_s=60)
    replica = _Replica()
    resync = Resync()
    task = asyncio.create_task(hub.serve(replica.send, Subscription(delta=True), resync))
    await _until(lambda: hub.subscribers == 1)
    for count in (1, 2):
        hub.on_snapshot(_take(sampler))
        await _until(lambda: len(replica.kinds) == count)  # noqa: B023
    resync.request()
    await _until(lambda: len(replica.kinds) == 3)
    hub.on_snapshot(_take(sampler))
    await _until(lambda: len(replica.kinds) == 4)
    assert replica.kinds == ["snapshot", "delta", "snapshot", "delta"]
    assert [f["seq"] for f in replica.frames] == [1, 2, 2, 3]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_late_joiner_at_a_lower_rate_falls_into_step_with_its_group() -> None:
    sampler = _sampler()
    snapshots = [_take(sampler)]
    hub = StreamHub(lambda: snapshots[-1], sampler_interval_s=0.25, heartbeat_s=60)
    early, late = _Replica(), _Replica()
    subscription = Subscription(rate_hz=2.0, delta=True)
    tasks = [asyncio.create_task(hub.serve(early.send, subscription))]
    await _until(lambda: len(early.kinds) == 1)
    snapshots.append(_take(sampler))
    hub.on_snapshot(snapshots[-1])  # not due for the group at 2 Hz
    tasks.append(asyncio.create_task(hub.serve(late.send, subscription)))
    await _until(lambda: len(late.kinds) == 1)
    for _ in range(8):
        snapshots.append(_take(sampler))
        hub.on_snapshot(snapshots[-1])
        await asyncio.sleep(0.01)
    await _until(lambda: len(early.kinds) == 5)
    assert [f["seq"] for f in early.frames] == [1, 3, 5, 7, 9]
    assert early.kinds == ["snapshot"] + ["delta"] * 4
    assert [f["seq"] for f in late.frames] == [2, 5, 7, 9]
    assert late.kinds == ["snapshot", "snapshot", "delta", "delta"]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
