"""Turns a trends question (metrics, GPUs, time range, bucket) into a plan (tier, bucket, SQL) and the
rows into series. Validation lives here so the API, the CLI export and the benchmarks agree on it."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gpu_sentinel.errors import UnknownGPUError
from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.errors import InvalidTimeRangeError, TooManyPointsError, UnknownMetricError
from gpu_sentinel.store.metrics import CHART_METRICS, METRICS, Metric, Scope
from gpu_sentinel.store.sql import aggregates
from gpu_sentinel.store.tiers import Tier, pick_tier

MAX_POINTS = 10_000
AUTO_TARGET_POINTS = 6_000
NICE_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
RANGE_PRESETS_S = {"1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


def auto_bucket(span_s: int) -> int:
    """The finest nice bucket giving at most ``AUTO_TARGET_POINTS`` points: 1 s for an hour, 5 s for 6 h
    and 15 s for 24 h, as spec 003 aggregates its charts, then 2 min for 7 days and 10 min for 30."""
    for bucket in NICE_BUCKETS_S:
        if math.ceil(span_s / bucket) <= AUTO_TARGET_POINTS:
            return bucket
    return NICE_BUCKETS_S[-1]


def preset_window(preset: str, now: float, bucket_s: int | None = None) -> tuple[int, int, int]:
    """``(start, end, bucket)`` of a preset ending now. The end is rounded up to a bucket boundary so the
    same question asked within one bucket is the same question (and hits the cache)."""
    span = RANGE_PRESETS_S[preset]
    bucket = bucket_s or auto_bucket(span)
    end = math.ceil((math.floor(now) + 1) / bucket) * bucket
    return end - span, end, bucket


def window(
    start: int | None, end: int | None, preset: str | None, bucket_s: int | None, now: float
) -> tuple[int, int, int | None]:
    """``(start, end, bucket)`` of a request: an explicit start wins; otherwise a preset (1 h by default)
    before ``end``, and when the end is 'now' it is rounded up to a bucket boundary so repeated calls
    ask the same question."""
    if start is not None:
        end_s = end if end is not None else math.floor(now) + 1
        check_range(start, end_s)
        return start, end_s, bucket_s
    preset = preset or "1h"
    if end is None:
        return preset_window(preset, now, bucket_s)
    return end - RANGE_PRESETS_S[preset], end, bucket_s


@dataclass(frozen=True, slots=True)
class TrendQuery:
    """``end`` is exclusive; ``gpu_ids`` None means every GPU; ``bucket_s`` None picks one; ``node`` (a
    node's name or id) None means this node."""

    metrics: tuple[str, ...]
    start: int
    end: int
    gpu_ids: tuple[int, ...] | None = None
    bucket_s: int | None = None
    node: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    node: int
    """Key of the node whose rows are read (see ``store.nodes``)."""
    tier: Tier
    bucket_s: int
    start: int
    end: int
    gpu_ids: tuple[int, ...]
    gpu_metrics: tuple[Metric, ...]
    host_metrics: tuple[Metric, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """One metric of one GPU (``gpu_id`` None for host metrics), columnar; empty buckets are absent."""

    metric: Metric
    gpu_id: int | None
    timestamps: list[int]
    avg: list[float | None]
    min: list[float | None]
    max: list[float | None]


@dataclass(frozen=True, slots=True)
class TrendResult:
    start: int
    end: int
    bucket_s: int
    tier: str
    series: list[Series]


def resolve_metrics(names: Sequence[str]) -> tuple[Metric, ...]:
    """Named metrics in order, without repeats; none named means every chart series."""
    chosen: list[Metric] = []
    for name in names or CHART_METRICS:
        metric = METRICS.get(name)
        if metric is None:
            raise UnknownMetricError(name, METRICS)
        if metric not in chosen:
            chosen.append(metric)
    return tuple(chosen)


def resolve_gpus(requested: tuple[int, ...] | None, known: Sequence[int]) -> tuple[int, ...]:
    if requested is None:
        return tuple(known)
    for gpu_id in requested:
        if gpu_id not in known:
            raise UnknownGPUError(gpu_id, known)
    return requested


def check_range(start: int, end: int) -> None:
    if end <= start:
        raise InvalidTimeRangeError(f"end ({end}) must be after start ({start})")


def plan(
    query: TrendQuery,
    node: int,
    tiers: tuple[Tier, ...],
    *,
    known_gpus: Sequence[int],
    now: float,
    max_points: int | None = MAX_POINTS,
) -> Plan:
    check_range(query.start, query.end)
    metrics = resolve_metrics(query.metrics)
    gpu_ids = resolve_gpus(query.gpu_ids, known_gpus)
    requested = query.bucket_s or auto_bucket(query.end - query.start)
    tier = pick_tier(tiers, requested, query.start, int(now))
    bucket = math.ceil(requested / tier.seconds) * tier.seconds
    start = query.start // bucket * bucket
    points = math.ceil((query.end - start) / bucket)
    if max_points is not None and points > max_points:
        minimum = math.ceil((query.end - query.start) / max_points)
        raise TooManyPointsError(points, max_points, minimum)
    return Plan(
        node=node,
        tier=tier,
        bucket_s=bucket,
        start=start,
        end=query.end,
        gpu_ids=gpu_ids,
        gpu_metrics=tuple(metric for metric in metrics if metric.scope == "gpu"),
        host_metrics=tuple(metric for metric in metrics if metric.scope == "host"),
    )


def select(plan: Plan, scope: Scope) -> tuple[str, list[Any]]:
    """One statement per scope; rows are ``(gpu_id?, bucket, avg, min, max, avg, min, max, ...)`` in
    key order, each value already in its metric's unit (``scaled_sql``)."""
    metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
    tier = plan.tier
    if plan.bucket_s == tier.seconds:
        bucket = "ts"
        columns = [
            (m.column,) * 3 if tier.raw else (f"{m.column}_avg", f"{m.column}_min", f"{m.column}_max")
            for m in metrics
        ]
    else:
        bucket = f"(ts / {plan.bucket_s}) * {plan.bucket_s}"
        columns = [aggregates(tier, metric.column) for metric in metrics]
    values = ", ".join(
        scaled_sql(expression, metric.scale)
        for metric, triple in zip(metrics, columns, strict=True)
        for expression in triple
    )
    params: list[Any] = [plan.node]
    where = "ts >= ? AND ts < ?"
    if scope == "gpu":
        marks = ", ".join("?" for _ in plan.gpu_ids)
        where = f"gpu_id IN ({marks}) AND {where}"
        params += plan.gpu_ids
    where = f"node = ? AND {where}"
    params += [plan.start, plan.end]
    key = "gpu_id, " if scope == "gpu" else ""
    text = f"SELECT {key}{bucket} AS bucket, {values} FROM {tier.table(scope)} WHERE {where}"
    if bucket != "ts":
        text += f" GROUP BY {key}bucket"
    return text + f" ORDER BY {key}bucket", params


ROUND_DIGITS = 3
"""Decimals a value keeps: more than any chart or spreadsheet needs."""


def scaled_sql(expression: str, scale: float) -> str:
    """``expression`` in its metric's unit, rounded to ``ROUND_DIGITS``, computed by the database: a day
    of 8 GPUs is some 600,000 values, each a Python call if scaled after reading. The cast keeps
    PostgreSQL in floating point (an integer column times a literal would be ``numeric``)."""
    factor = scale * 10**ROUND_DIGITS
    return f"ROUND(CAST({expression} AS DOUBLE PRECISION) * {factor!r}) / {10**ROUND_DIGITS}.0"


def to_series(plan: Plan, scope: Scope, rows: Sequence[Row]) -> list[Series]:
    """Rows come ordered by owner (GPU) then bucket, so each owner's rows are one run, turned into
    columns in one pass rather than value by value; the values are already scaled (``select``)."""
    metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
    owners: list[int | None] = list(plan.gpu_ids) if scope == "gpu" else [None]
    series = {
        (owner, metric.name): Series(metric, owner, [], [], [], []) for owner in owners for metric in metrics
    }
    offset = 2 if scope == "gpu" else 1
    for owner, run in itertools.groupby(rows, key=lambda row: row[0] if scope == "gpu" else None):
        columns = list(zip(*run, strict=True))
        timestamps = [int(ts) for ts in columns[offset - 1]]
        for i, metric in enumerate(metrics):
            target = series[(owner, metric.name)]
            base = offset + 3 * i
            target.timestamps.extend(timestamps)
            target.avg.extend(columns[base])
            target.min.extend(columns[base + 1])
            target.max.extend(columns[base + 2])
    return list(series.values())
