"""The history schema, one list of versioned migrations for both backends.

Time is integer epoch seconds. Each tier has one wide row per GPU per bucket (and one per host), keyed
``(gpu_id, ts)`` so a chart's range is one index range per GPU, clustered in SQLite (WITHOUT ROWID).
Rollup rows keep ``n`` (seconds covered) and avg/min/max of every metric so coarser tiers and usage
figures can be derived exactly. Process usage is kept per minute and per hour, not per second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gpu_sentinel.store.metrics import GPU_METRICS, HOST_METRICS, Metric

ROLLUP_TIER_NAMES = ("5s", "15s", "1m", "1h")
PROCESS_TIER_NAMES = ("1m", "1h")
PROCESS_COLUMNS = (
    "user_name",
    "seconds",
    "busy_s",
    "energy_j",
    "util_sum",
    "util_n",
    "mem_peak",
    "cpu_sum",
    "cpu_n",
    "host_mem_peak",
)
PROCESS_KEY = ("ts", "gpu_id", "pid", "name")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the backends' DDL."""

    name: str
    clustered_suffix: str


SQLITE = Dialect("sqlite", " WITHOUT ROWID")
POSTGRESQL = Dialect("postgresql", "")


def _raw_type(metric: Metric) -> str:
    return "BIGINT" if metric.integer else "REAL"


def _raw_table(dialect: Dialect, scope: str, metrics: tuple[Metric, ...]) -> str:
    columns = ", ".join(f"{metric.column} {_raw_type(metric)}" for metric in metrics)
    if scope == "gpu":
        return (
            f"CREATE TABLE gpu_raw (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, {columns}, "
            f"PRIMARY KEY (gpu_id, ts)){dialect.clustered_suffix}"
        )
    return f"CREATE TABLE host_raw (ts BIGINT NOT NULL PRIMARY KEY, {columns}){dialect.clustered_suffix}"


def _rollup_table(dialect: Dialect, scope: str, tier: str, metrics: tuple[Metric, ...]) -> str:
    columns = ", ".join(
        f"{metric.column}_{stat} DOUBLE PRECISION" for metric in metrics for stat in ("avg", "min", "max")
    )
    key = "PRIMARY KEY (gpu_id, ts)" if scope == "gpu" else "PRIMARY KEY (ts)"
    gpu = "gpu_id SMALLINT NOT NULL, " if scope == "gpu" else ""
    return (
        f"CREATE TABLE {scope}_{tier} (ts BIGINT NOT NULL, {gpu}n INTEGER NOT NULL, {columns}, {key})"
        f"{dialect.clustered_suffix}"
    )


def _process_table(dialect: Dialect, tier: str) -> str:
    return (
        f"CREATE TABLE process_{tier} (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL, "
        "name TEXT NOT NULL, user_name TEXT, seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION, "
        "energy_j DOUBLE PRECISION, util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL, mem_peak BIGINT, "
        "cpu_sum DOUBLE PRECISION, cpu_n INTEGER NOT NULL, host_mem_peak BIGINT, "
        f"PRIMARY KEY (gpu_id, ts, pid, name)){dialect.clustered_suffix}"
    )


def _version_1(dialect: Dialect) -> list[str]:
    statements = [
        "CREATE TABLE gpus (gpu_id SMALLINT NOT NULL PRIMARY KEY, uuid TEXT, name TEXT, "
        "memory_total_bytes BIGINT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)",
        _raw_table(dialect, "gpu", GPU_METRICS),
        _raw_table(dialect, "host", HOST_METRICS),
    ]
    for tier in ROLLUP_TIER_NAMES:
        statements.append(_rollup_table(dialect, "gpu", tier, GPU_METRICS))
        statements.append(_rollup_table(dialect, "host", tier, HOST_METRICS))
    for tier in PROCESS_TIER_NAMES:
        statements.append(_process_table(dialect, tier))
        statements.append(f"CREATE INDEX process_{tier}_ts ON process_{tier} (ts)")
    return statements


MIGRATIONS: dict[int, Callable[[Dialect], list[str]]] = {1: _version_1}


def pending_migrations(dialect: Dialect, current: int) -> list[tuple[int, list[str]]]:
    """Statements to bring a database at version ``current`` (0 = empty) up to the newest version."""
    return [(version, MIGRATIONS[version](dialect)) for version in sorted(MIGRATIONS) if version > current]
