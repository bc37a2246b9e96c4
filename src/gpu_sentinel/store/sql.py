"""SQL shared by both backends, written once with ``?`` placeholders (the PostgreSQL backend rewrites
them). Bucketing is portable integer arithmetic, ``(ts / b) * b``, not TimescaleDB's ``time_bucket``."""

from __future__ import annotations

from gpu_sentinel.store.metrics import GPU_COLUMNS, HOST_COLUMNS
from gpu_sentinel.store.schema import PROCESS_COLUMNS, PROCESS_KEY
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


UPSERT_GPU_RAW = _upsert("gpu_raw", ("ts", "gpu_id"), GPU_COLUMNS)
UPSERT_HOST_RAW = _upsert("host_raw", ("ts",), HOST_COLUMNS)
UPSERT_PROCESS = _upsert("process_1m", PROCESS_KEY, PROCESS_COLUMNS)
UPSERT_GPUS = (
    "INSERT INTO gpus (gpu_id, uuid, name, memory_total_bytes, first_seen, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gpu_id) DO UPDATE SET uuid = excluded.uuid, "
    "name = excluded.name, memory_total_bytes = excluded.memory_total_bytes, last_seen = excluded.last_seen"
)


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
    """Recompute ``target`` buckets from ``source`` rows with ``ts >= ?``; finished buckets come out the
    same, the bucket still filling is replaced."""
    columns = GPU_COLUMNS if scope == "gpu" else HOST_COLUMNS
    key = ("ts", "gpu_id") if scope == "gpu" else ("ts",)
    bucket = f"(ts / {target.seconds}) * {target.seconds}"
    select = [bucket] + (["gpu_id"] if scope == "gpu" else []) + [seconds_covered(source)]
    targets = [f"{column}_{stat}" for column in columns for stat in STATS]
    for column in columns:
        select.extend(aggregates(source, column))
    group = f"gpu_id, {bucket}" if scope == "gpu" else bucket
    updates = ", ".join(f"{name} = excluded.{name}" for name in ["n", *targets])
    return (
        f"INSERT INTO {target.table(scope)} ({', '.join([*key, 'n', *targets])}) "
        f"SELECT {', '.join(select)} FROM {source.table(scope)} WHERE ts >= ? GROUP BY {group} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


PROCESS_ROLLUP_1H = (
    "INSERT INTO process_1h (ts, gpu_id, pid, name, user_name, seconds, busy_s, energy_j, util_sum, util_n, "
    "mem_peak, cpu_sum, cpu_n, host_mem_peak) "
    "SELECT (ts / 3600) * 3600, gpu_id, pid, name, MAX(user_name), SUM(seconds), SUM(busy_s), SUM(energy_j), "
    "SUM(util_sum), SUM(util_n), MAX(mem_peak), SUM(cpu_sum), SUM(cpu_n), MAX(host_mem_peak) "
    "FROM process_1m WHERE ts >= ? GROUP BY gpu_id, (ts / 3600) * 3600, pid, name "
    "ON CONFLICT (gpu_id, ts, pid, name) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in PROCESS_COLUMNS)
)
