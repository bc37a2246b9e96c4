"""Sealed blocks: the settled chart series of one owner (a GPU, or the host) over ``BLOCK_BUCKETS``
buckets of a tier, kept compressed in ``trend_blocks`` (schema version 8) so the first ask of a chart
reads a few hundred blobs instead of tens of thousands of rows.

A day of every chart series of 8 GPUs at 15 s is 46,080 rows of 14 values; however it is indexed, the
database driver turns each value into a Python object, which alone takes longer than a dashboard should
wait. The same day is 216 blocks. The writer thread seals a block once every bucket in it has settled
(``store.settled``) and its tier's rollups reached its end; a writer that later writes into settled
buckets (a backlog replayed after an outage, a restart recomputing its last rollups) deletes the blocks
from there on, in the flush that bumps the node's revision, and seals them again.

Blocks hold the chart metrics (``Metric.chart``), the series a dashboard asks for on every load, at the
tier's own resolution: the 1 h, 6 h and 24 h presets (1 s, 5 s and 15 s). Other metrics and coarser
buckets are read from the rows, as is any range no block covers.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gpu_sentinel.store import query as row_query
from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.database import Statement
from gpu_sentinel.store.metrics import GPU_METRICS, HOST_METRICS, Metric, Scope
from gpu_sentinel.store.query import Plan, Series
from gpu_sentinel.store.tiers import Tier

BLOCK_BUCKETS = 240
"""Buckets per block: an hour at 15 s, so the tail no block covers yet stays a few hundred rows."""
HOST_OWNER = -1
"""The owner key of the host's blocks (GPUs are keyed by index)."""
MAX_SEALS_PER_FLUSH = 4
"""Blocks one tier seals per flush, so catching up after an upgrade never stalls the writer."""
COMPRESSION_LEVEL = 6

BLOCK_METRICS: Mapping[Scope, tuple[Metric, ...]] = {
    "gpu": tuple(metric for metric in GPU_METRICS if metric.chart),
    "host": tuple(metric for metric in HOST_METRICS if metric.chart),
}

UPSERT_SQL = (
    "INSERT INTO trend_blocks (node, tier, owner, start, payload) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (node, tier, owner, start) DO UPDATE SET payload = excluded.payload"
)
DELETE_FROM_SQL = "DELETE FROM trend_blocks WHERE node = ? AND tier = ? AND start >= ?"
DELETE_BEFORE_SQL = "DELETE FROM trend_blocks WHERE node = ? AND tier = ? AND start < ?"
LAST_SEALED_SQL = "SELECT MAX(start) FROM trend_blocks WHERE node = ? AND tier = ?"

Fetch = Callable[[int, int], list[Series]]
"""The plan's series of the buckets in ``[start, end)``, read from the rows."""
Query = Callable[[str, Sequence[Any]], list[Row]]


def span_s(tier: Tier) -> int:
    return tier.seconds * BLOCK_BUCKETS


def owners(plan: Plan, scope: Scope) -> tuple[int, ...]:
    return plan.gpu_ids if scope == "gpu" else (HOST_OWNER,)


def serves(plan: Plan, scope: Scope) -> bool:
    """Whether blocks can answer this part of the plan: the tier's own buckets, chart metrics only."""
    metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
    return plan.bucket_s == plan.tier.seconds and set(metrics) <= set(BLOCK_METRICS[scope])


def encode(timestamps: list[int], series: Sequence[Series]) -> bytes:
    """One owner's block: its bucket timestamps and each metric's avg, min and max. JSON through orjson
    reads back as fast as packed doubles would (making the Python floats is the cost either way)."""
    metrics = {item.metric.name: [item.avg, item.min, item.max] for item in series}
    return zlib.compress(orjson.dumps({"ts": timestamps, "metrics": metrics}), COMPRESSION_LEVEL)


@dataclass(frozen=True, slots=True)
class _Block:
    timestamps: list[int]
    metrics: dict[str, list[list[float | None]]]


def _decode(payload: bytes) -> _Block:
    body = orjson.loads(zlib.decompress(payload))
    return _Block(body["ts"], body["metrics"])


def select(plan: Plan, scope: Scope, window: tuple[int, int]) -> tuple[str, list[Any]]:
    """The blocks holding any bucket of ``window`` (``[start, end)``), by the table's key."""
    keys = owners(plan, scope)
    span = span_s(plan.tier)
    marks = ", ".join("?" for _ in keys)
    text = (
        "SELECT start, owner, payload FROM trend_blocks WHERE node = ? AND tier = ? "
        f"AND owner IN ({marks}) AND start >= ? AND start < ?"
    )
    return text, [plan.node, plan.tier.name, *keys, window[0] // span * span, window[1]]


def series(plan: Plan, scope: Scope, window: tuple[int, int], query: Query, fetch: Fetch) -> list[Series]:
    """The plan's series over ``[start, end)``: sealed blocks where every owner has one holding every
    metric asked for, ``fetch`` (the rows) for the ranges between and after them. ``window`` is
    ``[start, end)``."""
    start, end = window
    metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
    keys = owners(plan, scope)
    span = span_s(plan.tier)
    first = start // span * span
    rows = query(*select(plan, scope, window))
    found: dict[int, dict[int, bytes]] = {}
    for block_start, owner, payload in rows:
        found.setdefault(int(block_start), {})[int(owner)] = bytes(payload)
    pieces: list[list[Series]] = []
    gap: int | None = None
    for block_start in range(first, end, span):
        low, high = max(start, block_start), min(end, block_start + span)
        piece = _piece(metrics, keys, found.get(block_start, {}), low, high)
        if piece is None:
            gap = low if gap is None else gap
            continue
        if gap is not None:
            pieces.append(fetch(gap, low))
            gap = None
        pieces.append(piece)
    if gap is not None:
        pieces.append(fetch(gap, end))
    return _concatenated(pieces)


def _piece(
    metrics: Sequence[Metric], keys: Sequence[int], payloads: Mapping[int, bytes], low: int, high: int
) -> list[Series] | None:
    """Series of the buckets in ``[low, high)`` from one block per owner, in the order the rows give them
    (owner, then metric); None when an owner's block is missing or lacks a metric."""
    if any(key not in payloads for key in keys):
        return None
    out: list[Series] = []
    for key in keys:
        block = _decode(payloads[key])
        if any(metric.name not in block.metrics for metric in metrics):
            return None
        i = bisect.bisect_left(block.timestamps, low)
        j = bisect.bisect_left(block.timestamps, high)
        timestamps = block.timestamps[i:j]
        gpu_id = None if key == HOST_OWNER else key
        for metric in metrics:
            avg, low_values, high_values = block.metrics[metric.name]
            out.append(Series(metric, gpu_id, timestamps, avg[i:j], low_values[i:j], high_values[i:j]))
    return out


def _concatenated(pieces: list[list[Series]]) -> list[Series]:
    if len(pieces) == 1:
        return pieces[0]
    joined: list[Series] = []
    for parts in zip(*pieces, strict=True):
        head = parts[0]
        timestamps: list[int] = []
        avg: list[float | None] = []
        low: list[float | None] = []
        high: list[float | None] = []
        for part in parts:
            timestamps += part.timestamps
            avg += part.avg
            low += part.min
            high += part.max
        joined.append(Series(head.metric, head.gpu_id, timestamps, avg, low, high))
    return joined


class Sealer:
    """Seals this node's blocks as they settle. Owned by the writer thread, like everything it holds."""

    def __init__(self, tiers: tuple[Tier, ...], query: Query, settle_s: int) -> None:
        self._tiers = tiers
        self._query = query
        self._settle_s = settle_s
        self._next: dict[str, int] = {}
        """Per tier, the start of the first block not sealed yet."""

    def load(self, node: int, now: int) -> None:
        """Go on after the last block sealed; with none yet (a new node, or one just upgraded to version
        8), from the oldest row the tier keeps."""
        for tier in self._tiers:
            span = span_s(tier)
            last = self._query(LAST_SEALED_SQL, (node, tier.name))[0][0]
            if last is not None:
                self._next[tier.name] = int(str(last)) + span
                continue
            oldest = self._query(f"SELECT MIN(ts) FROM {tier.table('host')} WHERE node = ?", (node,))[0][0]
            since = max(now - tier.retention_s, int(str(oldest)) if oldest is not None else now)
            self._next[tier.name] = since // span * span

    def invalidate(self, node: int, since: int) -> list[Statement]:
        """Blocks holding buckets from ``since`` on are gone (rows were written into them after they
        settled): delete them, to be sealed again."""
        statements: list[Statement] = []
        for tier in self._tiers:
            floor = since // span_s(tier) * span_s(tier)
            if tier.name in self._next:
                self._next[tier.name] = min(self._next[tier.name], floor)
            statements.append((DELETE_FROM_SQL, (node, tier.name, floor)))
        return statements

    def retention(self, node: int, now: int) -> list[Statement]:
        """Delete blocks wholly older than their tier keeps rows."""
        cutoffs = ((tier, now - tier.retention_s - span_s(tier)) for tier in self._tiers)
        return [(DELETE_BEFORE_SQL, (node, tier.name, cutoff)) for tier, cutoff in cutoffs]

    def due(
        self, node: int, gpu_ids: Callable[[], tuple[int, ...]], now: float, rolled_until: Mapping[str, int]
    ) -> tuple[list[Statement], dict[str, int]]:
        """Upserts of the blocks that settled, at most ``MAX_SEALS_PER_FLUSH`` per tier, and where each
        tier goes on once they are written (``advance``). ``gpu_ids`` is asked only when a block is due;
        ``rolled_until``: per rollup tier, the first bucket whose rollup is not complete yet (raw rows are
        complete once settled)."""
        statements: list[Statement] = []
        next_starts: dict[str, int] = {}
        known: tuple[int, ...] | None = None
        for tier in self._tiers:
            block = self._next.get(tier.name)
            if block is None:
                continue
            span, sealed = span_s(tier), 0
            block = max(block, int(now - tier.retention_s) // span * span)  # back after a long time off
            complete = rolled_until.get(tier.name)
            while (
                sealed < MAX_SEALS_PER_FLUSH
                and block + span + self._settle_s <= now
                and (complete is None or block + span <= complete)
            ):
                known = gpu_ids() if known is None else known
                statements += self._seal(node, tier, known, block)
                block += span
                sealed += 1
            next_starts[tier.name] = block
        return statements, next_starts

    def advance(self, next_starts: Mapping[str, int]) -> None:
        self._next.update(next_starts)

    def _seal(self, node: int, tier: Tier, gpu_ids: tuple[int, ...], block: int) -> list[Statement]:
        """One block per owner, read with the SQL any answer of these buckets would use."""
        plan = Plan(
            node=node,
            tier=tier,
            bucket_s=tier.seconds,
            start=block,
            end=block + span_s(tier),
            gpu_ids=gpu_ids,
            gpu_metrics=BLOCK_METRICS["gpu"],
            host_metrics=BLOCK_METRICS["host"],
        )
        statements: list[Statement] = []
        scopes: tuple[Scope, ...] = ("gpu", "host") if gpu_ids else ("host",)
        for scope in scopes:
            metrics = BLOCK_METRICS[scope]
            found = row_query.to_series(plan, scope, self._query(*row_query.select(plan, scope)))
            for index, owner in enumerate(owners(plan, scope)):
                part = found[index * len(metrics) : (index + 1) * len(metrics)]
                payload = encode(part[0].timestamps if part else [], part)
                statements.append((UPSERT_SQL, (node, tier.name, owner, block, payload)))
        return statements
