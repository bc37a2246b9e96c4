"""Sealed blocks of settled chart series: a chart's first ask reads them instead of the rows, answers
exactly what the rows say, and rows written late into a sealed block (a backlog replayed after an
outage) show at once and are sealed again. On SQLite and PostgreSQL, the writer on the reader's fake
clock."""

from __future__ import annotations

import dataclasses

from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store import blocks as sealed
from gpu_sentinel.store.query import Series, select, to_series
from tests.store.conftest import StoreFactory
from tests.store.helpers import feed
from tests.store.test_settled import Clock, base_minute, live, readings

RAW_SPAN_S = sealed.BLOCK_BUCKETS  # the raw tier's block: 240 one-second buckets


def block_starts(store: HistoryStore, tier: str) -> list[int]:
    rows = store.database.query(
        "SELECT DISTINCT start FROM trend_blocks WHERE tier = ? ORDER BY start", (tier,)
    )
    return [int(row[0]) for row in rows]


def from_rows(store: HistoryStore, request: TrendQuery) -> list[Series]:
    """The answer the rows alone give: no block, nothing held."""
    store.database.execute([("DELETE FROM trend_blocks", ())])
    store.settled.clear()
    return store.trends(request).series


def test_a_first_ask_reads_sealed_blocks_and_answers_what_the_rows_say(make_store: StoreFactory) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 1200)  # 20 minutes; the clock ends at base + 1201
    settled_blocks = [base + RAW_SPAN_S * i for i in range(4)]  # the fifth closes at base + 1200: too new
    assert block_starts(store, "raw") == settled_blocks
    request = TrendQuery((), base, base + 1200, None, 1)
    plan = store.plan(request)

    read_from_rows: list[tuple[int, int]] = []

    def rows(start: int, end: int) -> list[Series]:
        read_from_rows.append((start, end))
        part = dataclasses.replace(plan, start=start, end=end)
        return to_series(part, "gpu", store.database.query(*select(part, "gpu")))

    sealed.series(plan, "gpu", (base, base + 1200), store.database.query, rows)
    assert read_from_rows == [(base + 4 * RAW_SPAN_S, base + 1200)]  # only what no block holds yet

    answer = store.trends(request).series
    (util0,) = (s for s in answer if s.metric.name == "gpu_utilization" and s.gpu_id == 0)
    assert util0.timestamps == list(range(base, base + 1200))
    assert util0.avg[:100] == [float(ts % 97) for ts in range(base, base + 100)]
    assert answer == from_rows(store, request)


def test_rows_written_late_into_a_sealed_block_show_at_once_and_are_sealed_again(
    make_store: StoreFactory,
) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 300)
    live(store, clock, base + 360, base + 1200)  # a minute lost to an outage, for now
    assert block_starts(store, "raw") == [base + RAW_SPAN_S * i for i in range(4)]
    request = TrendQuery(("gpu_utilization",), base, base + 1200, (0,), 1)
    (before,) = store.trends(request).series
    assert base + 300 not in before.timestamps

    feed(store, base + 300, 60, readings, per_second=1)  # the backlog, at the clock's now
    (after,) = store.trends(request).series
    assert after.timestamps == list(range(base, base + 1200))
    assert block_starts(store, "raw") == [base + RAW_SPAN_S * i for i in range(4)]  # sealed again
    assert [after] == from_rows(store, request)


def test_a_node_upgraded_with_history_and_no_blocks_seals_what_it_keeps(make_store: StoreFactory) -> None:
    base = base_minute()
    clock = Clock(base)
    store = make_store(clock=clock)
    live(store, clock, base, base + 1200)
    store.database.execute([("DELETE FROM trend_blocks", ())])  # as version 7 left it
    store.close()

    restarted = make_store(clock=clock)
    feed(restarted, base + 1200, 10, readings, per_second=1)
    assert block_starts(restarted, "raw") == [base + RAW_SPAN_S * i for i in range(4)]
    request = TrendQuery((), base, base + 1200, None, 1)
    assert restarted.trends(request).series == from_rows(restarted, request)
