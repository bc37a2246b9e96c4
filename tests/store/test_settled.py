"""Settled buckets held between trends answers: a chart asked again reads only the new buckets, yet
answers exactly what a fresh read would, and rows written late into settled buckets (a backlog replayed
after an outage, another node's writer catching up) show at once. On SQLite and PostgreSQL, with the
writer on the same fake clock as the reader."""

from __future__ import annotations

import time

from gpu_sentinel.errors import UnknownGPUError
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import GPUSample
from gpu_sentinel.store import HistoryStore, TrendQuery, TrendResult
from gpu_sentinel.store.settled import SettledCache
from tests.store.conftest import StoreFactory
from tests.store.helpers import feed, gpu, snapshot

OTHER = NodeIdentity("3" * 32, "late-box")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def live(store: HistoryStore, clock: Clock, start: int, end: int) -> None:
    """Rows for ``[start, end)`` as a running node writes them: ten seconds a flush, the clock just past
    the newest, so nothing it writes falls into a settled bucket."""
    for chunk in range(start, end, 10):
        clock.now = chunk + 11
        feed(store, chunk, 10, readings, per_second=1)


def readings(ts: float) -> list[GPUSample]:
    return [gpu(0, util=float(int(ts) % 97)), gpu(1, util=50.0, temperature=40.0 + int(ts) % 7)]


def fresh(store: HistoryStore, request: TrendQuery) -> TrendResult:
    store.settled.clear()
    return store.trends(request)


def base_minute() -> int:
    return (int(time.time()) // 3600 - 2) * 3600


def test_a_chart_asked_again_later_reads_only_new_buckets_and_answers_like_a_fresh_read(
    make_store: StoreFactory,
) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 600)
    first = store.trends(TrendQuery((), base, base + 660, None, 15))  # a window ending ahead, as presets do
    assert len(first.series[0].timestamps) == 40
    live(store, clock, base + 600, base + 660)
    later = TrendQuery((), base + 60, base + 660, None, 15)
    again = store.trends(later)
    assert store.settled.hits == 2  # the GPU and the host series, each from held buckets plus new rows
    assert again.series == fresh(store, later).series
    (util0,) = (s for s in again.series if s.metric.name == "gpu_utilization" and s.gpu_id == 0)
    assert util0.timestamps == list(range(base + 60, base + 660, 15))
    assert util0.max[-1] == max((ts % 97) for ts in range(base + 645, base + 660))


def test_a_backlog_replayed_into_settled_buckets_shows_at_once(make_store: StoreFactory) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 300)
    live(store, clock, base + 360, base + 600)  # a minute lost to an outage, for now
    request = TrendQuery(("gpu_utilization",), base, base + 600, (0,), 15)
    (before,) = store.trends(request).series
    assert base + 300 not in before.timestamps and base + 360 in before.timestamps
    feed(store, base + 300, 60, readings, per_second=1)  # the backlog, written at the clock's now
    (after,) = store.trends(request).series
    assert after.timestamps == list(range(base, base + 600, 15))
    assert after == fresh(store, request).series[0]


def test_another_nodes_late_rows_reach_a_reader_holding_its_settled_buckets(make_store: StoreFactory) -> None:
    base = base_minute()
    clock = Clock(base)
    reader = make_store(clock=clock)
    writer = make_store(clock=clock, node=OTHER)
    live(writer, clock, base, base + 120)
    live(writer, clock, base + 180, base + 300)
    request = TrendQuery(("temperature",), base, base + 300, (1,), 60, node=OTHER.name)
    (before,) = reader.trends(request).series
    assert before.timestamps == [base, base + 60, base + 180, base + 240]
    feed(writer, base + 120, 60, readings, per_second=1)
    (after,) = reader.trends(request).series
    assert after.timestamps == [base + 60 * i for i in range(5)]
    assert after == fresh(reader, request).series[0]


def test_a_running_writer_rolls_up_each_bucket_that_closes_without_being_asked(
    make_store: StoreFactory,
) -> None:
    """The writer rolls a tier's filling bucket only now and then, but a bucket that closed at once."""
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock, history_flush_interval=0.05)
    request = TrendQuery(("gpu_utilization",), base, base + 120, (0,), 60)

    def run(start: int, end: int) -> None:
        for second in range(start, end):
            clock.now = second + 0.5
            store.ingest(snapshot(second, second + 0.25, [gpu(0, util=float(second % 60))]))
        clock.now = end + 1

    def minutes() -> list[float | None]:
        store.settled.clear()
        try:
            return store.trends(request).series[0].avg
        except UnknownGPUError:  # nothing written yet
            return []

    run(base, base + 30)
    deadline = time.monotonic() + 30
    while not minutes() and time.monotonic() < deadline:  # rolled up once while the minute fills
        time.sleep(0.05)
    run(base + 30, base + 125)
    deadline = time.monotonic() + 30
    while minutes() != [29.5, 29.5] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert minutes() == [29.5, 29.5]
    (fives,) = store.trends(TrendQuery(("gpu_utilization",), base, base + 120, (0,), 5)).series
    assert fives.timestamps == list(range(base, base + 120, 5)) and fives.max[-1] == 59.0


def test_held_buckets_stay_within_their_limit_least_recently_used_first(make_store: StoreFactory) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 300)
    clock.now = base + 400
    store.settled = SettledCache(max_points=30)  # one GPU's 20 buckets of 15 s fit, two do not
    first, second = (TrendQuery(("gpu_utilization",), base, base + 300, (gpu_id,), 15) for gpu_id in (0, 1))
    store.trends(first)
    store.trends(first)
    assert (store.settled.hits, store.settled.misses) == (1, 1)
    store.trends(second)  # held instead of the first
    store.trends(first)
    assert (store.settled.hits, store.settled.misses) == (1, 3)
    everything = TrendQuery(("gpu_utilization",), base, base + 300, None, 15)  # 40 points: never held
    assert store.trends(everything).series == fresh(store, everything).series
    store.trends(everything)
    assert store.settled.hits == 1
