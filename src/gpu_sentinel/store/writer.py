"""The one thread that writes history. The sampler only enqueues (``submit`` never blocks); this thread
folds snapshots into 1-second rows, commits one batch per flush interval, keeps the rollup tiers current,
seals settled blocks (``store.blocks``), enforces retention, and holds batches in the backlog while the
database is away."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store import sql
from gpu_sentinel.store.backlog import Backlog
from gpu_sentinel.store.batch import Batch
from gpu_sentinel.store.blocks import Sealer
from gpu_sentinel.store.database import Database, DatabaseUnavailableError, Statement
from gpu_sentinel.store.downsample import Downsampler
from gpu_sentinel.store.settled import SETTLE_S
from gpu_sentinel.store.tiers import Tier

log = logging.getLogger(__name__)

QUEUE_SNAPSHOTS = 2400
REPLAY_BATCHES_PER_FLUSH = 120
PARTIAL_ROLLUP_MAX_S = 60.0
"""The longest a tier's bucket still filling goes without being rolled up again (its own width if less)."""


@dataclass(frozen=True, slots=True)
class WriterStatus:
    """What the health endpoint reports about history."""

    connected: bool
    last_error: str | None
    last_cause: str | None
    last_write: float | None
    rows_written: int
    queued_snapshots: int
    backlog_rows: int
    spilled_bytes: int
    dropped_snapshots: int
    dropped_rows: int


class _FlushRequest:
    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


def _floor(ts: int, seconds: int) -> int:
    return ts // seconds * seconds


class HistoryWriter:
    def __init__(
        self,
        database: Database,
        tiers: tuple[Tier, ...],
        backlog: Backlog,
        node: NodeIdentity,
        *,
        flush_interval: float = 1.0,
        retention_interval: float = 600.0,
        retry_interval: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._tiers = tiers
        self._node = node
        self.node_key: int | None = None
        """This node's key in ``nodes`` once the database has been reached; written only here."""
        self._backlog = backlog
        self._flush_interval = flush_interval
        self._retention_interval = retention_interval
        self._retry_interval = retry_interval
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SNAPSHOTS)
        self._downsampler = Downsampler()
        self._thread: threading.Thread | None = None
        self._migrated = False
        self._connected = False
        self._last_error: str | None = None
        self._last_cause: str | None = None
        self._last_write: float | None = None
        self._rows_written = 0
        self._dropped_snapshots = 0
        self._next_retry = 0.0
        self._next_retention = 0.0
        self._dirty: dict[str, int] = {}
        self._rolled_at: dict[str, float] = {}
        """When each tier's filling bucket was last rolled up (monotonic)."""
        self._rewritten_from: int | None = None
        """The first second that had settled when raw rows went into it: readers holding it must read it
        again, and the blocks holding it are sealed again."""
        self._sealer = Sealer(tiers, database.query, SETTLE_S)

    def prepare(self) -> bool:
        """Migrate before the thread starts so readers find the schema; on failure the thread retries."""
        return self._connect()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def submit(self, snapshot: Snapshot) -> None:
        """Called on the sampler thread: enqueue and return at once."""
        try:
            self._queue.put_nowait(snapshot)
        except queue.Full:
            self._dropped_snapshots += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Write everything submitted so far (the current second included) and wait for it."""
        request = _FlushRequest()
        self._queue.put(request, timeout=timeout)
        return request.done.wait(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Write what is left; if the database is away, persist the backlog to the spill file."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def status(self) -> WriterStatus:
        return WriterStatus(
            connected=self._connected,
            last_error=self._last_error,
            last_cause=self._last_cause,
            last_write=self._last_write,
            rows_written=self._rows_written,
            queued_snapshots=self._queue.qsize(),
            backlog_rows=self._backlog.memory_rows_held,
            spilled_bytes=self._backlog.spilled_bytes,
            dropped_snapshots=self._dropped_snapshots,
            dropped_rows=self._backlog.dropped_rows,
        )

    def _run(self) -> None:
        deadline = time.monotonic() + self._flush_interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                self._flush(final=True, current=True)
                if self._backlog:
                    self._backlog.persist()
                return
            if isinstance(item, _FlushRequest):
                self._flush(final=False, current=True)
                item.done.set()
            elif isinstance(item, Snapshot):
                self._downsampler.add(item)
            if time.monotonic() >= deadline:
                self._flush(final=False)
                deadline = time.monotonic() + self._flush_interval

    def _flush(self, *, final: bool, current: bool = False) -> None:
        """``current``: every tier's filling bucket rolled up now (a flush someone waits for, the last)."""
        try:
            batch = self._downsampler.drain(final=final)
            if len(batch):
                self._deliver(batch)
            elif self._backlog:
                self._replay()
            if self._connected:
                self._maintain(current=current)
        except Exception:  # the writer must outlive any single bad batch
            log.exception("history writer failed to flush")

    def _connect(self) -> bool:
        """Make sure the schema is in place; after a failure, try again only every ``retry_interval``."""
        if self._migrated:
            return True
        if time.monotonic() < self._next_retry:
            return False
        try:
            version = self._database.migrate()
            self.node_key = self._database.register_node(self._node, int(self._clock()))
            self._load_dirty(self.node_key)
            self._sealer.load(self.node_key, int(self._clock()))
        except DatabaseUnavailableError as error:
            self._went_down(error)
            return False
        log.info("history store %s ready (schema version %d)", self._database.location, version)
        self._migrated = True
        self._connected = True
        return True

    def _deliver(self, batch: Batch) -> None:
        if self._backlog or not self._connected:
            self._backlog.push(batch)
            self._replay()
            return
        try:
            self._write(batch)
        except DatabaseUnavailableError as error:
            self._went_down(error)
            self._backlog.push(batch)

    def _replay(self) -> None:
        """Write held batches in order, once the retry interval since the last failure has passed."""
        if not self._connected and time.monotonic() < self._next_retry:
            return
        if not self._connect():
            return
        try:
            for batch in self._backlog.batches(REPLAY_BATCHES_PER_FLUSH):
                self._write(batch)
        except DatabaseUnavailableError as error:
            self._went_down(error)
            return
        if not self._backlog:
            log.info("history store caught up after an outage")

    def _write(self, batch: Batch) -> None:
        assert self.node_key is not None  # every write follows a successful _connect
        self._database.write(batch, self.node_key)
        if not self._connected:
            log.info("history store %s is back", self._database.location)
        self._connected = True
        self._last_error = self._last_cause = None
        self._last_write = self._clock()
        self._rows_written += len(batch.gpu_rows) + len(batch.host_rows)
        sample_ts = batch.min_sample_ts()
        if sample_ts is not None and sample_ts + 1 + SETTLE_S <= self._clock():
            self._rewritten_from = min(sample_ts, self._rewritten_from or sample_ts)
        self._mark_dirty(batch)

    def _went_down(self, error: DatabaseUnavailableError) -> None:
        if self._connected or self._last_error is None:
            log.warning("history store %s unavailable, buffering: %s", self._database.location, error)
        self._connected = False
        self._last_error = str(error)
        self._last_cause = error.cause
        self._next_retry = time.monotonic() + self._retry_interval

    def _mark_dirty(self, batch: Batch) -> None:
        sample_ts = batch.min_sample_ts()
        if sample_ts is not None:
            for tier in self._tiers[1:]:
                self._dirty_from(tier.name, _floor(sample_ts, tier.seconds))
        process_ts = batch.min_process_ts()
        if process_ts is not None:
            self._dirty_from("process", _floor(process_ts, 3600))

    def _dirty_from(self, name: str, ts: int) -> None:
        self._dirty[name] = min(ts, self._dirty.get(name, ts))

    def _load_dirty(self, node: int) -> None:
        """After a restart, recompute each of this node's tiers from its last bucket on; it may have been
        cut short."""

        def edge(function: str, table: str) -> object:
            return self._database.query(f"SELECT {function}(ts) FROM {table} WHERE node = ?", (node,))[0][0]

        for source, tier in pairwise(self._tiers):
            last = edge("MAX", tier.table("host"))
            if last is None:
                last = edge("MIN", source.table("host"))
            if last is not None:
                self._dirty_from(tier.name, _floor(int(str(last)), tier.seconds))
        last = edge("MAX", "process_1h")
        if last is None:
            last = edge("MIN", "process_1m")
        if last is not None:
            self._dirty_from("process", int(str(last)))

    def _maintain(self, *, current: bool = False) -> None:
        """Rollups and retention of this node's rows only: another node's are its own writer's to keep.

        A tier is rolled up when a bucket of it closed with rows not yet in it, and otherwise (only the
        bucket still filling is behind) once per its width, at most ``PARTIAL_ROLLUP_MAX_S``: rewriting
        every tier's filling bucket each second was most of what a node cost the database."""
        node = self.node_key
        assert node is not None
        statements: list[Statement] = []
        rolled: list[str] = []
        now, ticking = self._clock(), time.monotonic()
        for source, tier in pairwise(self._tiers):
            if tier.name in self._dirty and (current or self._due(tier.name, tier.seconds, now, ticking)):
                since = self._dirty[tier.name]
                statements += [(sql.rollup(scope, source, tier), (node, since)) for scope in ("gpu", "host")]
                rolled.append(tier.name)
        if "process" in self._dirty and (current or self._due("process", 3600, now, ticking)):
            statements.append((sql.PROCESS_ROLLUP_1H, (node, self._dirty["process"])))
            rolled.append("process")
        rewritten = self._rewritten_since(rolled)
        if rewritten is not None:
            statements.append((sql.BUMP_REVISION, (node,)))
            statements += self._sealer.invalidate(node, rewritten)
        retain = time.monotonic() >= self._next_retention
        try:
            if retain:
                statements += self._retention(node)
            if statements:
                self._database.execute(statements)
        except DatabaseUnavailableError as error:
            self._went_down(error)
            return
        for name in rolled:
            del self._dirty[name]
            self._rolled_at[name] = ticking
        self._rewritten_from = None
        if retain:
            self._next_retention = time.monotonic() + self._retention_interval
        self._seal(node)

    def _seal(self, node: int) -> None:
        """Seal the blocks that settled, unless held batches may still write into them."""
        if self._backlog:
            return

        def gpu_ids() -> tuple[int, ...]:
            rows = self._database.query("SELECT DISTINCT gpu_id FROM gpus WHERE node = ?", (node,))
            return tuple(sorted(int(row[0]) for row in rows))

        rolled_until = {tier.name: self._dirty.get(tier.name, 2**62) for tier in self._tiers[1:]}
        try:
            statements, next_starts = self._sealer.due(node, gpu_ids, self._clock(), rolled_until)
            if statements:
                self._database.execute(statements)
        except DatabaseUnavailableError as error:
            self._went_down(error)
            return
        self._sealer.advance(next_starts)

    def _due(self, name: str, seconds: int, now: float, ticking: float) -> bool:
        """Whether a tier of ``seconds`` buckets needs rolling up: rows in a bucket that closed, or its
        filling bucket's turn."""
        if self._dirty[name] < int(now) // seconds * seconds:
            return True
        every = min(float(seconds), PARTIAL_ROLLUP_MAX_S)
        return ticking - self._rolled_at.get(name, float("-inf")) >= every

    def _rewritten_since(self, rolled: list[str]) -> int | None:
        """The first settled second this flush changes (``store.settled``), if any: rows of a replayed
        backlog, or the rollups a restart recomputes from the last bucket written before it."""
        now = self._clock()
        tiers = {tier.name: tier.seconds for tier in self._tiers}
        dirty = [(self._dirty[name], tiers[name]) for name in rolled if name in tiers]
        rollups = [since for since, seconds in dirty if since + seconds + SETTLE_S <= now]
        candidates = [*rollups, *([self._rewritten_from] if self._rewritten_from is not None else [])]
        return min(candidates) if candidates else None

    def _retention(self, node: int) -> list[Statement]:
        """Delete this node's rows older than each tier keeps. GPU tables are cut per GPU so the key
        ``(node, gpu_id, ts)`` serves it."""
        now = int(self._clock())
        rows = self._database.query("SELECT DISTINCT gpu_id FROM gpus WHERE node = ?", (node,))
        gpu_ids = [int(row[0]) for row in rows]
        gpu_filter = f"gpu_id IN ({', '.join(str(gpu_id) for gpu_id in gpu_ids)}) AND " if gpu_ids else ""
        statements: list[Statement] = []
        for tier in self._tiers:
            cutoff = now - tier.retention_s
            statements.append(
                (f"DELETE FROM {tier.table('gpu')} WHERE node = ? AND {gpu_filter}ts < ?", (node, cutoff))
            )
            statements.append((f"DELETE FROM {tier.table('host')} WHERE node = ? AND ts < ?", (node, cutoff)))
            if tier.name in ("1m", "1h"):
                statements.append(
                    (f"DELETE FROM process_{tier.name} WHERE node = ? AND ts < ?", (node, cutoff))
                )
        return statements + self._sealer.retention(node, now)
