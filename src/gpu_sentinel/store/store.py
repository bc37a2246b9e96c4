"""The history store the service and the API use: ingest from the sampler, trends, usage and export,
over whichever backend the database URL names."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity, load_node_identity
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store import blocks, export, nodes, process_history, query, usage
from gpu_sentinel.store.backlog import Backlog
from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.cache import TTLCache
from gpu_sentinel.store.database import Database, DatabaseUnavailableError
from gpu_sentinel.store.errors import HistoryUnavailableError, UnknownNodeError
from gpu_sentinel.store.metrics import Scope
from gpu_sentinel.store.settled import SettledCache, revision_of
from gpu_sentinel.store.tiers import Tier, tiers_for
from gpu_sentinel.store.usage import Grouping, OwnerUsage, UsageReport
from gpu_sentinel.store.writer import HistoryWriter, WriterStatus

MEMORY_BACKLOG_ROWS = 200_000  # held only while the spill file cannot be written
PROCESS_LIMIT = 100
ALL_NODES = "all"
UNREGISTERED = 0
"""The key read while this node has not reached the database yet: no row has it, so reads come back empty."""
REVISION_SQL = "SELECT history_revision FROM nodes WHERE node = ?"
"""A node's history revision (``store.settled``): one row of a few, read with every trends answer."""


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
    """One node's history: it writes as ``node`` and reads its own rows unless a request names another."""

    def __init__(
        self,
        database: Database,
        tiers: tuple[Tier, ...],
        node: NodeIdentity,
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
        self.node = node
        self._clock = clock
        backlog = Backlog(spill_path, memory_rows=memory_backlog_rows, max_spill_bytes=spill_max_bytes)
        self.writer = HistoryWriter(
            database,
            tiers,
            backlog,
            node,
            flush_interval=flush_interval,
            retry_interval=retry_interval,
            clock=clock,
        )
        self._trends: TTLCache[query.TrendResult] = TTLCache(cache_ttl)
        self.settled = SettledCache()
        self._usage: TTLCache[UsageReport] = TTLCache(cache_ttl)
        self._gpus: TTLCache[list[int]] = TTLCache(min(cache_ttl, 5.0) or 1.0)
        self._nodes: TTLCache[list[nodes.NodeRecord]] = TTLCache(min(cache_ttl, 5.0) or 1.0)

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Callable[[], float] = time.time, node: NodeIdentity | None = None
    ) -> HistoryStore:
        return cls(
            open_database(settings),
            tiers_for(settings),
            node or load_node_identity(settings.data_dir, settings.node_name),
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

    def nodes(self, fresh: bool = False) -> list[nodes.NodeRecord]:
        """Nodes that have written history to this database, by name."""

        def read() -> list[nodes.NodeRecord]:
            return nodes.records(self._rows(nodes.ALL_NODES_SQL, ()))

        return read() if fresh else self._nodes.get_or_compute("nodes", read)

    def node_key(self, node: str | None = None) -> int:
        """The key of a node named by name or id (None: this node), read afresh (the table is a few rows)
        so a node that just joined, or a second node taking a name, is seen at once."""
        if node is None:
            if self.writer.node_key is not None:
                return self.writer.node_key
            node = self.node.id
            local = [record for record in self.nodes(fresh=True) if record.id == node]
            return local[0].key if local else UNREGISTERED
        known = self.nodes(fresh=True)
        by_id = [record for record in known if record.id == node]
        by_name = [record for record in known if record.name == node]
        if by_id or len(by_name) == 1:
            return (by_id or by_name)[0].key
        raise UnknownNodeError(node, _labels(known), ambiguous=len(by_name) > 1)

    def node_names(self) -> dict[int, str]:
        """Key to name of every node, read afresh so a node that joined a moment ago has its name."""
        names = {record.key: record.name for record in self.nodes(fresh=True)}
        if self.writer.node_key is not None:
            names.setdefault(self.writer.node_key, self.node.name)
        return names

    def gpu_ids(self, node: str | None = None) -> list[int]:
        """GPUs of a node (this one by default) that have history, by index."""
        return self._gpu_ids(self.node_key(node))

    def _gpu_ids(self, key: int) -> list[int]:
        sql_text = "SELECT DISTINCT gpu_id FROM gpus WHERE node = ? ORDER BY gpu_id"
        return self._gpus.get_or_compute(key, lambda: [int(row[0]) for row in self._rows(sql_text, (key,))])

    def plan(self, request: query.TrendQuery, max_points: int | None = query.MAX_POINTS) -> query.Plan:
        key = self.node_key(request.node)
        return query.plan(
            request, key, self.tiers, known_gpus=self._gpu_ids(key), now=self._clock(), max_points=max_points
        )

    def trends(self, request: query.TrendQuery) -> query.TrendResult:
        return self._trends.get_or_compute(request, lambda: self._compute_trends(request))

    def _compute_trends(self, request: query.TrendQuery) -> query.TrendResult:
        plan = self.plan(request)
        revision = revision_of(self._rows(REVISION_SQL, (plan.node,)))
        now = self._clock()
        series: list[query.Series] = []
        scopes: list[Scope] = ["gpu", "host"]
        for scope in scopes:
            metrics = plan.gpu_metrics if scope == "gpu" else plan.host_metrics
            if not metrics or (scope == "gpu" and not plan.gpu_ids):
                continue

            def from_rows(start: int, end: int, scope: Scope = scope) -> list[query.Series]:
                part = dataclasses.replace(plan, start=start, end=end)
                return query.to_series(part, scope, self._rows(*query.select(part, scope)))

            def fetch(start: int, end: int, scope: Scope = scope) -> list[query.Series]:
                if not blocks.serves(plan, scope):
                    return from_rows(start, end, scope)
                return blocks.series(plan, scope, (start, end), self._rows, partial(from_rows, scope=scope))

            series += self.settled.series(plan, scope, revision, now, fetch)
        return query.TrendResult(plan.start, plan.end, plan.bucket_s, plan.tier.name, series)

    def usage(
        self,
        start: int,
        end: int,
        gpu_ids: tuple[int, ...] | None = None,
        limit: int = PROCESS_LIMIT,
        node: str | None = None,
    ) -> UsageReport:
        """``node``: a name or id, None for this node, ``"all"`` for every node (rows say whose)."""
        key = (start, end, gpu_ids, limit, node)
        return self._usage.get_or_compute(key, lambda: self._compute_usage(start, end, gpu_ids, limit, node))

    def _compute_usage(
        self, start: int, end: int, requested: tuple[int, ...] | None, limit: int, node: str | None
    ) -> UsageReport:
        query.check_range(start, end)
        if node == ALL_NODES:
            keys = [record.key for record in self.nodes(fresh=True)]
        else:
            keys = [self.node_key(node)]
        known = sorted({gpu_id for key in keys for gpu_id in self._gpu_ids(key)})
        gpu_ids = query.resolve_gpus(requested, known)
        tier = self._process_tier(start)
        if not gpu_ids or not keys:
            return UsageReport(start, end, tier.seconds, [], [], [])
        window = [*keys, *gpu_ids, start // tier.seconds * tier.seconds, end]
        table = f"process_{tier.name}"
        names = self.node_names()
        return UsageReport(
            start=start,
            end=end,
            resolution_s=tier.seconds,
            gpus=usage.gpus_from(self._rows(usage.gpu_sql(tier, keys, gpu_ids), window), names),
            users=usage.users_from(self._rows(usage.user_sql(table, keys, gpu_ids), window), names),
            processes=usage.processes_from(
                self._rows(usage.process_sql(table, keys, gpu_ids), [*window, limit]), tier.seconds, names
            ),
            containers=self._owners(table, keys, gpu_ids, window, grouping=usage.CONTAINERS, names=names),
            pods=self._owners(table, keys, gpu_ids, window, grouping=usage.PODS, names=names),
            jobs=self._owners(table, keys, gpu_ids, window, grouping=usage.JOBS, names=names),
        )

    def process_history(
        self, pid: int, start: int, end: int, gpu_ids: tuple[int, ...] | None = None, node: str | None = None
    ) -> process_history.ProcessHistory:
        """One PID's usage bucket by bucket, at one minute (one hour past the minute tier's retention)."""
        query.check_range(start, end)
        key = self.node_key(node)
        tier = self._process_tier(start)
        params = [key, pid, start // tier.seconds * tier.seconds, end, *(gpu_ids or ())]
        rows = self._rows(process_history.select_sql(f"process_{tier.name}", gpu_ids), params)
        series = process_history.series_from(rows)
        return process_history.ProcessHistory(pid, start, end, tier.seconds, series)

    def _process_tier(self, start: int) -> Tier:
        """The finest process tier still holding ``start``."""
        minute, hour = (tier for tier in self.tiers if tier.name in ("1m", "1h"))
        return minute if start >= self._clock() - minute.retention_s else hour

    def _owners(
        self,
        table: str,
        keys: Sequence[int],
        gpu_ids: Sequence[int],
        window: list[int],
        *,
        grouping: Grouping,
        names: Mapping[int, str],
    ) -> list[OwnerUsage]:
        rows = self._rows(usage.group_sql(table, keys, gpu_ids, grouping), window)
        return usage.owners_from(rows, grouping, names)

    def export(self, request: query.TrendQuery, fmt: export.ExportFormat) -> Iterator[bytes]:
        """Validates now (so errors become responses), then streams. Without a bucket, rows come at the
        finest resolution still kept for the range."""
        requested = request.bucket_s
        if request.bucket_s is None:
            request = dataclasses.replace(request, bucket_s=1)
        plan = self.plan(request, max_points=None)
        export.check_bucket(plan, requested)
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


def _labels(known: Sequence[nodes.NodeRecord]) -> list[str]:
    return [f"{record.name} ({record.id})" for record in known]
