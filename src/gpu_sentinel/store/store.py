"""The history store the service and the API use: ingest from the sampler, trends, usage and export,
over whichever backend the database URL names."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gpu_sentinel.config import Settings
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store import export, query, usage
from gpu_sentinel.store.backlog import Backlog
from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.cache import TTLCache
from gpu_sentinel.store.database import Database, DatabaseUnavailableError
from gpu_sentinel.store.errors import HistoryUnavailableError
from gpu_sentinel.store.metrics import Scope
from gpu_sentinel.store.tiers import Tier, tiers_for
from gpu_sentinel.store.usage import UsageReport
from gpu_sentinel.store.writer import HistoryWriter, WriterStatus

MEMORY_BACKLOG_ROWS = 200_000
PROCESS_LIMIT = 100


@dataclass(frozen=True, slots=True)
class StoreStatus:
    backend: str
    location: str
    writer: WriterStatus


def open_database(settings: Settings) -> Database:
    """A ``postgresql://`` URL selects PostgreSQL; ``sqlite:///path`` or no URL, SQLite."""
    url = settings.database_url
    if url and url.startswith(("postgresql://", "postgres://")):
        from gpu_sentinel.store.postgres import PostgresDatabase

        return PostgresDatabase(url)
    from gpu_sentinel.store.sqlite import SQLiteDatabase

    if not url:
        return SQLiteDatabase(settings.data_dir / "history.sqlite3")
    if url.startswith("sqlite:///"):
        return SQLiteDatabase(Path(url.removeprefix("sqlite:///")))
    raise ValueError(f"unsupported database URL {url!r}: use postgresql://... or sqlite:///path")


class HistoryStore:
    def __init__(
        self,
        database: Database,
        tiers: tuple[Tier, ...],
        *,
        spill_path: Path,
        spill_max_bytes: int,
        flush_interval: float = 1.0,
        retry_interval: float = 5.0,
        memory_backlog_rows: int = MEMORY_BACKLOG_ROWS,
        cache_ttl: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.tiers = tiers
        self._clock = clock
        backlog = Backlog(spill_path, memory_rows=memory_backlog_rows, max_spill_bytes=spill_max_bytes)
        self.writer = HistoryWriter(
            database,
            tiers,
            backlog,
            flush_interval=flush_interval,
            retry_interval=retry_interval,
            clock=clock,
        )
        self._trends: TTLCache[query.TrendResult] = TTLCache(cache_ttl)
        self._usage: TTLCache[UsageReport] = TTLCache(cache_ttl)
        self._gpus: TTLCache[list[int]] = TTLCache(min(cache_ttl, 5.0) or 1.0)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float] = time.time) -> HistoryStore:
        return cls(
            open_database(settings),
            tiers_for(settings),
            spill_path=settings.data_dir / "history-spill.jsonl",
            spill_max_bytes=int(settings.history_spill_max_mb * 1024 * 1024),
            flush_interval=settings.history_flush_interval,
            retry_interval=settings.history_retry_interval,
            cache_ttl=settings.history_cache_ttl,
            clock=clock,
        )

    def start(self) -> None:
        """Migrate now if the database answers (so queries work at once), else the writer keeps trying."""
        self.writer.prepare()
        self.writer.start()

    def ingest(self, snapshot: Snapshot) -> None:
        """A sampler subscriber: never blocks."""
        self.writer.submit(snapshot)

    def flush(self, timeout: float = 10.0) -> bool:
        return self.writer.flush(timeout)

    def close(self) -> None:
        self.writer.stop()
        self.database.close()

    def status(self) -> StoreStatus:
        return StoreStatus(self.database.backend, self.database.location, self.writer.status())

    def _rows(self, sql_text: str, params: Sequence[object]) -> list[Row]:
        try:
            return self.database.query(sql_text, params)
        except DatabaseUnavailableError as error:
            raise HistoryUnavailableError(f"History database unavailable: {error}") from error

    def gpu_ids(self) -> list[int]:
        """GPUs that have history, by index."""
        return self._gpus.get_or_compute(
            "gpus", lambda: [int(row[0]) for row in self._rows("SELECT gpu_id FROM gpus ORDER BY gpu_id", ())]
        )

    def plan(self, request: query.TrendQuery, max_points: int | None = query.MAX_POINTS) -> query.Plan:
        return query.plan(request, self.tiers, self.gpu_ids(), self._clock(), max_points)

    def trends(self, request: query.TrendQuery) -> query.TrendResult:
        return self._trends.get_or_compute(request, lambda: self._compute_trends(request))

    def _compute_trends(self, request: query.TrendQuery) -> query.TrendResult:
        plan = self.plan(request)
        series: list[query.Series] = []
        scopes: list[Scope] = ["gpu", "host"]
        for scope in scopes:
            metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
            if not metrics or (scope == "gpu" and not plan.gpu_ids):
                continue
            rows = self._rows(*query.select(plan, scope))
            series += query.to_series(plan, scope, rows)
        return query.TrendResult(plan.start, plan.end, plan.bucket_s, plan.tier.name, series)

    def usage(
        self, start: int, end: int, gpu_ids: tuple[int, ...] | None = None, limit: int = PROCESS_LIMIT
    ) -> UsageReport:
        key = (start, end, gpu_ids, limit)
        return self._usage.get_or_compute(key, lambda: self._compute_usage(start, end, gpu_ids, limit))

    def _compute_usage(
        self, start: int, end: int, requested: tuple[int, ...] | None, limit: int
    ) -> UsageReport:
        query.check_range(start, end)
        gpu_ids = query.resolve_gpus(requested, self.gpu_ids())
        minute, hour = (tier for tier in self.tiers if tier.name in ("1m", "1h"))
        tier = minute if start >= self._clock() - minute.retention_s else hour
        if not gpu_ids:
            return UsageReport(start, end, tier.seconds, [], [], [])
        window = [*gpu_ids, start // tier.seconds * tier.seconds, end]
        table = f"process_{tier.name}"
        return UsageReport(
            start=start,
            end=end,
            resolution_s=tier.seconds,
            gpus=usage.gpus_from(self._rows(usage.gpu_sql(tier, gpu_ids), window)),
            users=usage.users_from(self._rows(usage.user_sql(table, gpu_ids), window)),
            processes=usage.processes_from(
                self._rows(usage.process_sql(table, gpu_ids), [*window, limit]), tier.seconds
            ),
        )

    def export(self, request: query.TrendQuery, fmt: export.ExportFormat) -> Iterator[bytes]:
        """Validates now (so errors become responses), then streams. Without a bucket, rows come at the
        finest resolution still kept for the range."""
        if request.bucket_s is None:
            request = dataclasses.replace(request, bucket_s=1)
        plan = self.plan(request, max_points=None)
        return export.encode(self._records(plan), fmt)

    def _records(self, plan: query.Plan) -> Iterator[tuple[object, ...]]:
        scopes: list[Scope] = ["gpu", "host"]
        for scope in scopes:
            metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
            if not metrics or (scope == "gpu" and not plan.gpu_ids):
                continue
            try:
                rows = self.database.stream(*query.select(plan, scope))
                yield from export.records(plan, scope, rows)
            except DatabaseUnavailableError as error:
                raise HistoryUnavailableError(f"History database unavailable: {error}") from error
