"""Settled buckets of trends answers, kept so a chart asked again reads only what is new.

A bucket is settled once it closed ``SETTLE_S`` ago: a writer keeping up has written every row in it,
and one that writes into a settled bucket later (a backlog replayed after an outage, a restart
recomputing its last rollups) bumps its node's ``history_revision`` (schema version 7) in the same
flush. So an answer's settled part is valid for as long as its node's revision is unchanged, and asking
24 h at 15 s again costs the database only the buckets since the last answer: a few rows instead of
46,000 for a node of 8 GPUs.

Entries are immutable (series are copied, never extended in place) and swapped under a lock, so any
request thread may read and replace them; the least recently used go first once the points kept
exceed ``max_points``.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gpu_sentinel.store.metrics import Scope
from gpu_sentinel.store.query import Plan, Series

SETTLE_S = 30
"""How long after a bucket closes its rows are final, unless its node's revision says otherwise."""
MAX_POINTS = 600_000
"""A point is a bucket's timestamp, avg, min and max, about 110 bytes held: some 65 MB, three 24 h views
of every chart series of 8 GPUs."""

T = TypeVar("T")
Fetch = Callable[[int, int], list[Series]]
"""Reads the series of the plan's buckets in ``[start, end)`` from the database."""


def settled_until(now: float, bucket_s: int, end: int) -> int:
    """The bucket boundary before which every bucket is settled and inside ``[.., end)``."""
    return min(int(now - SETTLE_S) // bucket_s * bucket_s, end // bucket_s * bucket_s)


@dataclass(frozen=True, slots=True)
class _Entry:
    revision: int
    start: int
    end: int
    """Buckets in ``[start, end)`` are held."""
    series: tuple[Series, ...]

    @property
    def points(self) -> int:
        return sum(len(series.timestamps) for series in self.series)


def _since(series: Series, start: int, until: int | None = None) -> Series:
    """The part of ``series`` with buckets in ``[start, until)``, as new lists."""
    i = bisect.bisect_left(series.timestamps, start)
    j = len(series.timestamps) if until is None else bisect.bisect_left(series.timestamps, until)
    return Series(
        series.metric,
        series.gpu_id,
        series.timestamps[i:j],
        series.avg[i:j],
        series.min[i:j],
        series.max[i:j],
    )


def _joined(head: Series, start: int, tail: Series) -> Series:
    """``head`` from ``start`` on, then ``tail``: each list copied once."""
    i = bisect.bisect_left(head.timestamps, start)
    return Series(
        head.metric,
        head.gpu_id,
        _from(head.timestamps, i, tail.timestamps),
        _from(head.avg, i, tail.avg),
        _from(head.min, i, tail.min),
        _from(head.max, i, tail.max),
    )


def _from(held: list[T], i: int, new: list[T]) -> list[T]:
    column = held[i:]
    column += new
    return column


class SettledCache:
    """Series of settled buckets per question shape (node, tier, bucket, scope, GPUs, metrics)."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        self.max_points = max_points
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def series(
        self, plan: Plan, scope: Scope, revision: int | None, now: float, fetch: Fetch
    ) -> list[Series]:
        """The plan's series: held settled buckets plus, from the database, the buckets after them.
        ``revision`` None (a node not registered yet) reads everything and keeps nothing."""
        metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
        key = (plan.node, plan.tier.name, plan.bucket_s, scope, plan.gpu_ids, tuple(m.name for m in metrics))
        until = settled_until(now, plan.bucket_s, plan.end)
        with self._lock:
            entry = self._entries.get(key)
        if (
            revision is None
            or entry is None
            or entry.revision != revision
            or not entry.start <= plan.start <= entry.end <= plan.end
        ):
            self._count(hit=False)
            fresh = fetch(plan.start, plan.end)
            if revision is not None and until > plan.start:
                held = tuple(_since(series, plan.start, until) for series in fresh)
                self._keep(key, _Entry(revision, plan.start, until, held))
            return fresh
        self._count(hit=True)
        if entry.end < plan.end:
            tail = fetch(entry.end, plan.end)
        else:
            tail = [_since(series, plan.end) for series in entry.series]
        pairs = zip(entry.series, tail, strict=True)
        answer = [_joined(held, plan.start, new) for held, new in pairs]
        end = max(until, entry.end)
        if end > entry.end or plan.start > entry.start:
            held = tuple(_since(series, plan.start, end) for series in answer)
            self._keep(key, _Entry(revision, plan.start, end, held))
        return answer

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        """Hold ``entry`` (one larger than everything allowed is not held), dropping the least recently
        used beyond ``max_points``."""
        with self._lock:
            if entry.points > self.max_points:
                self._entries.pop(key, None)
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            total = sum(held.points for held in self._entries.values())
            while total > self.max_points and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                total -= dropped.points

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def revision_of(rows: Sequence[Sequence[object]]) -> int | None:
    """The revision from ``SELECT history_revision FROM nodes WHERE node = ?``; None without a row."""
    return int(str(rows[0][0])) if rows else None
