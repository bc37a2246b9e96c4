"""Tier and bucket choice, the backlog's ordering and bounds, and the answer cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from gpu_sentinel.config import Settings
from gpu_sentinel.store.backlog import Backlog
from gpu_sentinel.store.batch import Batch
from gpu_sentinel.store.cache import TTLCache
from gpu_sentinel.store.query import RANGE_PRESETS_S, auto_bucket, preset_window
from gpu_sentinel.store.tiers import pick_tier, tiers_for

TIERS = tiers_for(Settings(raw_retention_hours=48, metrics_retention_days=30, hourly_retention_days=365))
NOW = 1_700_000_000


@pytest.mark.parametrize(("preset", "bucket"), [("1h", 1), ("6h", 5), ("24h", 15), ("7d", 120), ("30d", 600)])
def test_presets_use_the_spec_aggregation(preset: str, bucket: int) -> None:
    start, end, chosen = preset_window(preset, NOW + 0.4)
    assert chosen == bucket
    assert end % bucket == 0 and end > NOW and end - start == RANGE_PRESETS_S[preset]


@pytest.mark.parametrize(
    ("span", "bucket", "tier"),
    [
        (3600, 1, "raw"),
        (6 * 3600, 5, "5s"),
        (86400, 15, "15s"),
        (86400, 30, "15s"),
        (7 * 86400, 120, "1m"),
        (30 * 86400, 3600, "1h"),
        (30 * 86400, 600, "1m"),
        (300 * 86400, 86400, "1h"),
    ],
)
def test_tier_follows_range_and_bucket(span: int, bucket: int, tier: str) -> None:
    assert pick_tier(TIERS, bucket, NOW - span, NOW).name == tier


def test_a_bucket_finer_than_what_is_kept_falls_back_to_the_finest_tier_that_reaches() -> None:
    assert pick_tier(TIERS, 1, NOW - 3 * 86400, NOW).name == "1m"
    assert auto_bucket(90 * 86400) == 1800


def batch(ts: int) -> Batch:
    return Batch(gpu_rows=[(ts, 0, *([1.0] * 13))], host_rows=[(ts, *([1.0] * 9))])


def first_seconds(backlog: Backlog) -> list[int]:
    return [int(b.gpu_rows[0][0]) for b in backlog.batches(100)]


def test_every_batch_is_in_the_file_as_soon_as_it_is_pushed(tmp_path: Path) -> None:
    path = tmp_path / "spill.jsonl"
    backlog = Backlog(path, memory_rows=1000, max_spill_bytes=1 << 20)
    for ts in range(3):
        backlog.push(batch(ts))
        assert backlog.memory_rows_held == 0
        # What a process started after a kill -9 here would find:
        found = Path(shutil.copy(path, tmp_path / "after-a-crash.jsonl"))
        assert first_seconds(Backlog(found, memory_rows=0, max_spill_bytes=1 << 20)) == list(range(ts + 1))


def test_backlog_keeps_arrival_order_across_file_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "spill.jsonl"
    one_line = len(orjson.dumps(batch(0).to_json())) + 1
    backlog = Backlog(path, memory_rows=100, max_spill_bytes=2 * one_line)
    for ts in range(5):
        backlog.push(batch(ts))
    assert backlog.memory_rows_held == 3 * len(batch(0)) and backlog.spilled_bytes == 2 * one_line
    backlog.max_spill_bytes = 1 << 20
    backlog.persist()
    assert backlog.memory_rows_held == 0
    assert first_seconds(backlog) == list(range(5))
    assert not backlog and not path.exists()


def test_an_unwritable_spill_file_holds_batches_in_memory_until_it_is_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    backlog = Backlog(blocker / "spill.jsonl", memory_rows=3 * len(batch(0)), max_spill_bytes=1 << 20)
    for ts in range(5):
        backlog.push(batch(ts))
    assert backlog.memory_rows_held == 3 * len(batch(0))
    assert backlog.dropped_rows == 2 * len(batch(0))
    blocker.unlink()
    backlog.push(batch(5))
    assert backlog.memory_rows_held == 0 and backlog.spilled_bytes > 0
    assert first_seconds(backlog) == [0, 1, 2, 5]


def test_a_failed_write_leaves_the_batch_in_the_backlog(tmp_path: Path) -> None:
    backlog = Backlog(tmp_path / "spill.jsonl", memory_rows=0, max_spill_bytes=1 << 20)
    backlog.push(batch(1))
    backlog.push(batch(2))
    for _ in backlog.batches(10):
        break
    assert [b.gpu_rows[0][0] for b in backlog.batches(10)] == [1, 2]


def test_backlog_bounds_drop_and_count_beyond_the_file_limit(tmp_path: Path) -> None:
    backlog = Backlog(tmp_path / "spill.jsonl", memory_rows=0, max_spill_bytes=300)
    for ts in range(10):
        backlog.push(batch(ts))
    assert backlog.dropped_rows > 0 and backlog.spilled_bytes <= 300


def test_a_line_cut_short_by_a_crash_is_discarded(tmp_path: Path) -> None:
    path = tmp_path / "spill.jsonl"
    backlog = Backlog(path, memory_rows=0, max_spill_bytes=1 << 20)
    backlog.push(batch(1))
    with path.open("ab") as file:
        file.write(b'{"gpu": [[2, 0')
    reopened = Backlog(path, memory_rows=0, max_spill_bytes=1 << 20)
    reopened.push(batch(3))
    assert first_seconds(reopened) == [1, 3]
    assert not path.exists()


def test_cache_reuses_answers_until_they_expire() -> None:
    now = [0.0]
    cache: TTLCache[int] = TTLCache(2.0, clock=lambda: now[0])
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get_or_compute("q", compute) == 1
    assert cache.get_or_compute("q", compute) == 1
    now[0] = 2.5
    assert cache.get_or_compute("q", compute) == 2
    assert (cache.hits, cache.misses) == (1, 2)
