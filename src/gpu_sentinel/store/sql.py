"""SQL shared by both backends, written once with ``?`` placeholders (the PostgreSQL backend rewrites
them). Bucketing is portable integer arithmetic, ``(ts / b) * b``, not TimescaleDB's ``time_bucket``."""

from __future__ import annotations

from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.metrics import GPU_COLUMNS, HOST_COLUMNS
from gpu_sentinel.store.schema import PROCESS_COLUMNS, PROCESS_KEY, PROCESS_OWNER_COLUMNS
from gpu_sentinel.store.tiers import Tier

STATS = ("avg", "min", "max")


def _upsert(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    names = key + columns
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


UPSERT_GPU_RAW = _upsert("gpu_raw", ("node", "ts", "gpu_id"), GPU_COLUMNS)
UPSERT_HOST_RAW = _upsert("host_raw", ("node", "ts"), HOST_COLUMNS)
UPSERT_PROCESS = _upsert("process_1m", PROCESS_KEY, PROCESS_COLUMNS)
UPSERT_GPUS = (
    "INSERT INTO gpus (node, gpu_id, uuid, name, memory_total_bytes, first_seen, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node, uuid) DO UPDATE SET gpu_id = excluded.gpu_id, "
    "name = excluded.name, memory_total_bytes = excluded.memory_total_bytes, last_seen = excluded.last_seen"
)
"""Each takes the node key first, then a ``Batch`` row as the downsampler made it."""
BUMP_REVISION = "UPDATE nodes SET history_revision = history_revision + 1 WHERE node = ?"
"""Tells readers holding settled buckets of this node's answers (``store.settled``) to read again."""


def gpu_uuid(uuid: str | None, gpu_id: int) -> str:
    """The ``gpus`` key of a GPU whose UUID could not be read: its index, as version 5 keyed old rows."""
    return uuid or f"index:{gpu_id}"


def writes(batch: Batch, node: int) -> list[tuple[str, list[Row]]]:
    """A batch's upserts with every row carrying ``node``, the writing node's key."""
    gpus = [(node, row[0], gpu_uuid(row[1], row[0]), *row[2:]) for row in batch.gpu_info]
    return [
        (UPSERT_GPU_RAW, [(node, *row) for row in batch.gpu_rows]),
        (UPSERT_HOST_RAW, [(node, *row) for row in batch.host_rows]),
        (UPSERT_PROCESS, [(node, *row) for row in batch.process_rows]),
        (UPSERT_GPUS, gpus),
    ]


def _weighted_avg(column: str) -> str:
    """Mean of a rollup's means, weighted by the seconds each covers (rows where it was null excluded)."""
    return f"SUM({column}_avg * n) / NULLIF(SUM(CASE WHEN {column}_avg IS NULL THEN 0 ELSE n END), 0)"


def aggregates(source: Tier, column: str) -> tuple[str, str, str]:
    """avg, min and max of ``column`` over rows of ``source``."""
    if source.raw:
        return f"AVG({column})", f"MIN({column})", f"MAX({column})"
    return _weighted_avg(column), f"MIN({column}_min)", f"MAX({column}_max)"


def seconds_covered(source: Tier) -> str:
    return "COUNT(*)" if source.raw else "SUM(n)"


def rollup(scope: str, source: Tier, target: Tier) -> str:
    """Recompute one node's ``target`` buckets from its ``source`` rows with ``ts >= ?`` (parameters: node,
    since); finished buckets come out the same, the bucket still filling is replaced. A node rolls up only
    its own rows, so nodes sharing a database never rewrite each other's buckets."""
    columns = GPU_COLUMNS if scope == "gpu" else HOST_COLUMNS
    key = ("node", "ts", "gpu_id") if scope == "gpu" else ("node", "ts")
    bucket = f"(ts / {target.seconds}) * {target.seconds}"
    select = ["node", bucket] + (["gpu_id"] if scope == "gpu" else []) + [seconds_covered(source)]
    targets = [f"{column}_{stat}" for column in columns for stat in STATS]
    for column in columns:
        select.extend(aggregates(source, column))
    group = f"node, gpu_id, {bucket}" if scope == "gpu" else f"node, {bucket}"
    updates = ", ".join(f"{name} = excluded.{name}" for name in ["n", *targets])
    return (
        f"INSERT INTO {target.table(scope)} ({', '.join([*key, 'n', *targets])}) "
        f"SELECT {', '.join(select)} FROM {source.table(scope)} WHERE node = ? AND ts >= ? GROUP BY {group} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


PROCESS_ROLLUP_1H = (
    "INSERT INTO process_1h (node, ts, gpu_id, pid, name, user_name, seconds, busy_s, energy_j, util_sum, "
    f"util_n, mem_peak, cpu_sum, cpu_n, host_mem_peak, sm_seconds, {', '.join(PROCESS_OWNER_COLUMNS)}) "
    "SELECT node, (ts / 3600) * 3600, gpu_id, pid, name, MAX(user_name), SUM(seconds), SUM(busy_s), "
    "SUM(energy_j), SUM(util_sum), SUM(util_n), MAX(mem_peak), SUM(cpu_sum), SUM(cpu_n), MAX(host_mem_peak), "
    "SUM(sm_seconds), "
    + ", ".join(f"MAX({column})" for column in PROCESS_OWNER_COLUMNS)
    + " FROM process_1m WHERE node = ? AND ts >= ? GROUP BY node, gpu_id, (ts / 3600) * 3600, pid, name "
    "ON CONFLICT (node, gpu_id, ts, pid, name) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in PROCESS_COLUMNS)
)
