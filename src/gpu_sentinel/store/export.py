"""Streams history as CSV or JSON in constant memory, one row per metric, GPU and bucket:
``timestamp, time, gpu_id, metric, unit, avg, min, max`` (``gpu_id`` empty for host metrics). An export
gives exactly the bucket asked for, or refuses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, Literal

import orjson

from gpu_sentinel.errors import SentinelError
from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.database import Database, DatabaseUnavailableError
from gpu_sentinel.store.errors import HistoryUnavailableError
from gpu_sentinel.store.metrics import Metric, Scope
from gpu_sentinel.store.query import Plan
from gpu_sentinel.store.sqlite import SQLiteDatabase

ExportFormat = Literal["csv", "json"]
COLUMNS = ("timestamp", "time", "gpu_id", "metric", "unit", "avg", "min", "max")
CHUNK_RECORDS = 2000
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
SCHEMA_PRESENT_SQL = {
    "sqlite": "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    "postgresql": "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_name = 'schema_version'",
}


class UnavailableBucketError(SentinelError):
    status_code = 422
    code = "unavailable_bucket"

    def __init__(self, requested_s: int, resolution_s: int) -> None:
        super().__init__(
            f"A {requested_s} s bucket is not kept for this range: its history is kept at {resolution_s} s "
            f"resolution. Use a bucket that is a multiple of {resolution_s} s, or a more recent range."
        )


def check_bucket(plan: Plan, requested_s: int | None) -> None:
    """A bucket given explicitly is served as it is or refused, never silently widened."""
    if requested_s is not None and plan.bucket_s != requested_s:
        raise UnavailableBucketError(requested_s, plan.tier.seconds)


def history_exists(database: Database) -> bool:
    """Whether the service ever wrote history there, asked without creating anything: a missing SQLite
    file is no history, not an empty database to make."""
    if isinstance(database, SQLiteDatabase) and not database.path.is_file():
        return False
    try:
        return bool(database.query(SCHEMA_PRESENT_SQL[database.backend])[0][0])
    except DatabaseUnavailableError as error:
        raise HistoryUnavailableError(f"History database unavailable: {error}") from error


def records(plan: Plan, scope: Scope, rows: Iterable[Row]) -> Iterator[tuple[Any, ...]]:
    """Wide query rows (see ``query.select``: values already scaled) unfolded into one record per metric."""
    metrics: tuple[Metric, ...] = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
    offset = 2 if scope == "gpu" else 1
    for row in rows:
        ts = int(row[offset - 1])
        time = datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")
        gpu_id = row[0] if scope == "gpu" else None
        for i, metric in enumerate(metrics):
            yield (ts, time, gpu_id, metric.name, metric.unit, *row[offset + 3 * i : offset + 3 * i + 3])


def _chunks(items: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK_RECORDS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def as_csv(items: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode()
    for chunk in _chunks(items):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(chunk)
        yield buffer.getvalue().encode()


def as_json(items: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """A JSON array of objects, written piece by piece."""
    yield b"["
    first = True
    for chunk in _chunks(items):
        body = b",\n".join(orjson.dumps(dict(zip(COLUMNS, item, strict=True))) for item in chunk)
        yield body if first else b",\n" + body
        first = False
    yield b"]\n"


def encode(items: Iterable[tuple[Any, ...]], fmt: ExportFormat) -> Iterator[bytes]:
    return as_csv(items) if fmt == "csv" else as_json(items)
