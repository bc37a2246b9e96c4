"""The history store as the service uses it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import time

import orjson
import pytest

from gpu_sentinel.errors import UnknownGPUError
from gpu_sentinel.store import TrendQuery
from gpu_sentinel.store.errors import InvalidTimeRangeError, TooManyPointsError, UnknownMetricError
from gpu_sentinel.store.schema import HISTORY
from tests.store.conftest import StoreFactory
from tests.store.helpers import feed, gpu, process


def recent_minute(minutes_ago: int = 10) -> int:
    return (int(time.time()) // 60 - minutes_ago) * 60


def test_four_samples_a_second_become_one_row_holding_their_mean(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 2, lambda ts: [gpu(0, util=10.0 * (1 + round((ts % 1) * 4)))])
    result = store.trends(TrendQuery(("gpu_utilization",), start, start + 2, None, 1))
    assert result.tier == "raw"
    (series,) = result.series
    assert series.timestamps == [start, start + 1]
    assert series.avg == [25.0, 25.0]
    assert series.min == [25.0, 25.0] and series.max == [25.0, 25.0]


def test_buckets_carry_avg_min_max_and_every_tier_agrees(make_store: StoreFactory) -> None:
    store = make_store()
    start = (int(time.time()) // 120 - 10) * 120
    feed(store, start, 120, lambda ts: [gpu(0, util=float(int(ts) % 60)), gpu(1, util=80.0)], per_second=1)
    answers = {}
    for bucket in (1, 5, 60):
        result = store.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), bucket))
        answers[result.tier] = result
    assert set(answers) == {"raw", "5s", "1m"}
    minute = answers["1m"].series[0]
    assert minute.timestamps == [start, start + 60]
    assert minute.avg == [29.5, 29.5] and minute.min == [0.0, 0.0] and minute.max == [59.0, 59.0]
    five = answers["5s"].series[0]
    assert len(five.timestamps) == 24 and five.avg[0] == 2.0 and five.max[0] == 4.0
    coarse = store.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 120))
    assert coarse.tier == "1m" and coarse.series[0].avg == [29.5]


def test_one_call_returns_every_chart_series_for_every_gpu(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 30, lambda ts: [gpu(0, memory_gb=8.0), gpu(1, memory_gb=12.0)])
    result = store.trends(TrendQuery((), start, start + 30, None, 15))
    names = {(series.metric.name, series.gpu_id) for series in result.series}
    assert names == {
        (metric, gpu_id)
        for metric in ("gpu_utilization", "gpu_memory_used_gb", "temperature", "power_watts")
        for gpu_id in (0, 1)
    } | {("cpu_utilization", None), ("ram_used_gb", None)}
    memory = next(s for s in result.series if s.metric.name == "gpu_memory_used_gb" and s.gpu_id == 1)
    assert memory.avg == [12.0, 12.0] and memory.metric.unit == "GB"
    ram = next(s for s in result.series if s.metric.name == "ram_used_gb")
    assert ram.avg == [16.0, 16.0]


def test_missing_metrics_stay_null(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 10, lambda ts: [gpu(0, power=None)])
    for bucket in (1, 5):
        result = store.trends(TrendQuery(("power_watts", "fan_speed"), start, start + 10, (0,), bucket))
        for series in result.series:
            assert series.avg and all(value is None for value in series.avg + series.min + series.max)


def test_history_survives_reopening(make_store: StoreFactory) -> None:
    start = recent_minute()
    first = make_store()
    feed(first, start, 60, lambda ts: [gpu(0, util=40.0)])
    first.close()
    second = make_store()
    feed(second, start + 60, 60, lambda ts: [gpu(0, util=80.0)])
    result = second.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 60))
    assert result.series[0].avg == [40.0, 80.0]
    raw = second.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 1))
    assert len(raw.series[0].timestamps) == 120


def test_bad_questions_are_refused_with_reasons(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 2, lambda ts: [gpu(0), gpu(1)])
    with pytest.raises(InvalidTimeRangeError, match="must be after"):
        store.trends(TrendQuery((), start + 10, start, None, 1))
    with pytest.raises(UnknownMetricError, match="gpu_utilization"):
        store.trends(TrendQuery(("gpu_util",), start, start + 10, None, 1))
    with pytest.raises(UnknownGPUError, match="0, 1"):
        store.trends(TrendQuery((), start, start + 10, (7,), 1))
    with pytest.raises(TooManyPointsError, match="limit is 10000") as error:
        store.trends(TrendQuery((), start - 86400, start, None, 1))
    assert error.value.status_code == 422


def test_usage_by_gpu_user_and_process(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()

    def gpus(ts: float) -> list:  # type: ignore[type-arg]
        return [
            gpu(0, util=50.0, power=200.0, processes=[process(100, "alice", memory_gb=6.0)]),
            gpu(1, util=100.0, power=300.0, processes=[process(200, "bob"), process(300, "alice")]),
        ]

    feed(store, start, 120, gpus, per_second=2)
    feed(store, start + 120, 1, lambda ts: [gpu(0, util=0.0), gpu(1, util=0.0)], per_second=2)
    report = store.usage(start, start + 120)
    gpu0, gpu1 = report.gpus
    assert gpu0.hours == pytest.approx(120 / 3600)
    assert gpu0.gpu_hours == pytest.approx(60 / 3600)
    assert gpu0.energy_kwh == pytest.approx(200 * 120 / 3.6e6)
    assert gpu1.avg_utilization == pytest.approx(100.0)
    alice = next(user for user in report.users if user.user == "alice")
    assert alice.gpu_ids == [0, 1] and alice.processes == 2
    assert alice.gpu_hours == pytest.approx((60 + 60) / 3600)
    assert alice.energy_kwh == pytest.approx((200 * 120 + 150 * 120) / 3.6e6)
    assert alice.peak_memory_gb == pytest.approx(6.0)
    who_used_gpu1 = store.usage(start, start + 120, (1,))
    assert {user.user for user in who_used_gpu1.users} == {"alice", "bob"}
    assert {p.pid for p in who_used_gpu1.processes} == {200, 300}
    bob = next(p for p in who_used_gpu1.processes if p.pid == 200)
    assert bob.hours == pytest.approx(120 / 3600) and bob.avg_utilization == pytest.approx(100.0)


def test_export_streams_csv_and_json(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 30, lambda ts: [gpu(0, util=30.0), gpu(1, util=60.0)], per_second=1)
    query = TrendQuery(("gpu_utilization", "cpu_utilization"), start, start + 30)
    chunks = list(store.export(query, "csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 30 * 2 + 30
    assert rows[0]["metric"] == "gpu_utilization" and rows[0]["gpu_id"] == "0" and rows[0]["avg"] == "30.0"
    assert rows[-1]["metric"] == "cpu_utilization" and rows[-1]["gpu_id"] == ""
    records = orjson.loads(
        b"".join(store.export(TrendQuery(("temperature",), start, start + 30, (1,), 15), "json"))
    )
    assert [record["timestamp"] for record in records] == [start, start + 15]
    assert records[0]["unit"] == "°C" and records[0]["avg"] == 60.0


def test_old_rows_leave_each_tier_after_its_retention(make_store: StoreFactory) -> None:
    start = recent_minute()
    first = make_store()
    feed(first, start, 120, lambda ts: [gpu(0)], per_second=1)
    first.close()
    later = [time.time() + 3 * 86400]
    store = make_store(clock=lambda: later[0])
    assert store.flush()
    minute = store.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 1))
    assert minute.tier == "1m" and minute.bucket_s == 60 and len(minute.series[0].timestamps) == 2
    raw_left = store.database.query("SELECT COUNT(*) FROM gpu_raw")[0][0]
    five_left = store.database.query("SELECT COUNT(*) FROM gpu_5s")[0][0]
    assert raw_left == 0 and five_left == 0


def test_repeated_questions_within_the_ttl_are_answered_from_cache(make_store: StoreFactory) -> None:
    store = make_store(history_cache_ttl=60)
    start = recent_minute()
    feed(store, start, 5, lambda ts: [gpu(0)])
    query = TrendQuery(("gpu_utilization",), start, start + 5, None, 1)
    assert store.trends(query) is store.trends(query)


def test_schema_is_versioned_and_migration_is_idempotent(make_store: StoreFactory) -> None:
    store = make_store()
    assert store.database.migrate() == HISTORY.latest
    versions = store.database.query("SELECT version FROM schema_version ORDER BY version")
    assert versions == [(version,) for version in range(1, HISTORY.latest + 1)]
