"""Schema migrations are frozen history: databases made by earlier releases upgrade in place and keep
every row, and version 1 stays exactly what the first release created."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from gpu_sentinel.alerts.defaults import default_rules
from gpu_sentinel.alerts.repository import ALERTS_SCHEMA, AlertRepository
from gpu_sentinel.config import Settings
from gpu_sentinel.snapshot import GPUSample
from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store.metrics import GPU_COLUMNS, HOST_COLUMNS
from gpu_sentinel.store.migrations import Migration, MigrationSet
from gpu_sentinel.store.schema import HISTORY, ROLLUP_TIER_NAMES
from tests.conftest import require_component
from tests.store.helpers import GiB, fresh_schema, gpu, pg_available, snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "history-v1.sqlite3"
START = 1_699_999_980
V1_BUILTIN_RULES = {
    "gpu-temperature-critical",
    "gpu-memory-full",
    "gpu-xid",
    "gpu-ecc-uncorrectable",
    "gpu-lost",
    "sampler-stalled",
    "gpu-allocated-idle",
}


def open_store(tmp_path: Path, url: str, now: float) -> HistoryStore:
    settings = Settings(data_dir=tmp_path, database_url=url, history_cache_ttl=0)  # type: ignore[call-arg]
    store = HistoryStore.from_settings(settings, clock=lambda: now)
    store.start()
    return store


def schema_of(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    return [(kind, name, sql) for kind, name, sql in rows]


def series(store: HistoryStore, metric: str, gpu_id: int, window: tuple[int, int, int]) -> list[float | None]:
    """The averages of one metric of one GPU over ``(start, end, bucket)``."""
    start, end, bucket = window
    (found,) = store.trends(TrendQuery((metric,), start, end, (gpu_id,), bucket)).series
    return found.avg


def test_version_1_creates_exactly_what_the_first_release_created(tmp_path: Path) -> None:
    """Editing version 1 (or building it from today's metric list) makes this fail."""
    fresh = tmp_path / "fresh.sqlite3"
    with sqlite3.connect(fresh) as connection:
        for schema in (HISTORY, ALERTS_SCHEMA):
            connection.execute(schema.create_version_table)
            for statement in schema.migrations[0].sqlite:
                connection.execute(statement)

    assert schema_of(fresh) == schema_of(FIXTURE)


def test_a_version_1_sqlite_file_upgrades_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    store = open_store(tmp_path, f"sqlite:///{path}", now=START + 130)
    try:
        assert store.database.migrate() == HISTORY.latest
        assert store.gpu_ids() == [0, 1]
        raw = series(store, "gpu_utilization", 0, (START + 10, START + 13, 1))
        assert raw == [10.0, 11.0, 12.0]
        assert series(store, "temperature", 0, (START + 40, START + 42, 1)) == [60.0, 61.0]
        assert series(store, "power_watts", 0, (START + 119, START + 120, 1)) == [219.0]
        assert series(store, "power_watts", 1, (START, START + 2, 1)) == [None, None]
        assert series(store, "gpu_memory_used_gb", 1, (START, START + 1, 1)) == [20.0]
        assert series(store, "cpu_utilization", 0, (START, START + 1, 1)) == [30.0]
        assert series(store, "gpu_utilization", 0, (START, START + 120, 60)) == [
            29.5,
            pytest.approx(56.1667, abs=1e-3),
        ]
        assert series(store, "gpu_utilization", 1, (START, START + 120, 60)) == [25.0, 25.0]
        (alice,) = store.usage(START, START + 120).users
        assert alice.user == "alice" and alice.processes == 1
        rules = {rule.id for rule in AlertRepository(store.database).rules()}
        assert rules == V1_BUILTIN_RULES
    finally:
        store.close()


def test_an_upgraded_file_stores_the_new_readings(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    now = START + 200
    store = open_store(tmp_path, f"sqlite:///{path}", now=now)
    try:
        later = START + 150

        def reading(ts: float) -> list[GPUSample]:
            sample = gpu(0)
            return [
                GPUSample(
                    info=sample.info,
                    utilization_gpu_pct=50.0,
                    nvlink_tx_bytes_per_s=4e9,
                    pcie_replay_count=7 + int((ts - later) * 4),
                    memory_reserved_bytes=GiB // 2,
                    thermal_violation_s=1.5,
                )
            ]

        for i in range(8):
            ts = later + i / 4
            store.ingest(snapshot(i, ts, reading(ts)))
        assert store.flush()
        assert series(store, "nvlink_tx_bytes_per_s", 0, (later, later + 2, 1)) == [4e9, 4e9]
        # A counter's second holds its last value, never a mean it never had.
        assert series(store, "pcie_replay_count", 0, (later, later + 2, 1)) == [10.0, 14.0]
        assert series(store, "gpu_memory_reserved_gb", 0, (later, later + 1, 1)) == [0.5]
        assert series(store, "thermal_violation_s", 0, (later, later + 1, 1)) == [1.5]
        assert series(store, "gpu_utilization", 0, (START + 10, START + 11, 1)) == [10.0]
    finally:
        store.close()


V1_GPU_ROW = (
    "INSERT INTO gpu_raw (ts, gpu_id, util_gpu, mem_used, temp, power) VALUES (%s, 0, %s, %s, 55.0, %s)"
)
V1_MINUTE_ROW = (
    "INSERT INTO gpu_1m (ts, gpu_id, n, util_gpu_avg, util_gpu_min, util_gpu_max, temp_avg, temp_min,"
    " temp_max) VALUES (%s, 0, 60, 42.0, 10.0, 90.0, 55.0, 54.0, 56.0)"
)


@pytest.mark.real_component
def test_a_version_1_postgresql_database_upgrades_and_keeps_every_row(tmp_path: Path) -> None:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(HISTORY.create_version_table.encode())
            for statement in HISTORY.migrations[0].postgresql:
                connection.execute(statement.encode())
            connection.execute(b"INSERT INTO schema_version (version) VALUES (1)")
            connection.execute(
                b"INSERT INTO gpus (gpu_id, uuid, name, memory_total_bytes, first_seen, last_seen) "
                b"VALUES (0, 'GPU-0', 'Old GPU', 85899345920, %s, %s)",
                (START, START + 60),
            )
            for second in range(60):
                connection.execute(
                    V1_GPU_ROW.encode(), (START + second, float(second), 8 * GiB, 150.0 + second)
                )
            connection.execute(V1_MINUTE_ROW.encode(), (START - 3600,))
            connection.execute(ALERTS_SCHEMA.create_version_table.encode())
            for statement in ALERTS_SCHEMA.migrations[0].postgresql:
                connection.execute(statement.encode())
            connection.execute(b"INSERT INTO alerts_schema_version (version) VALUES (1)")
            hot = default_rules(0.25)[0]
            connection.execute(
                b"INSERT INTO alert_rules (id, body, updated_at) VALUES (%s, %s, 0)",
                (hot.id, hot.model_dump_json()),
            )
            connection.execute(b"INSERT INTO alert_meta (key, value) VALUES ('defaults_seeded', '1')")
        store = open_store(tmp_path, url, now=START + 70)
        try:
            assert store.database.migrate() == HISTORY.latest
            assert store.gpu_ids() == [0]
            assert series(store, "gpu_utilization", 0, (START + 5, START + 8, 1)) == [5.0, 6.0, 7.0]
            assert series(store, "power_watts", 0, (START + 59, START + 60, 1)) == [209.0]
            assert series(store, "gpu_memory_used_gb", 0, (START, START + 1, 1)) == [8.0]
            (minute,) = store.trends(
                TrendQuery(("gpu_utilization",), START - 3600, START - 3540, (0,), 60)
            ).series
            assert (minute.avg, minute.min, minute.max) == ([42.0], [10.0], [90.0])
            assert series(store, "nvlink_rx_bytes_per_s", 0, (START, START + 1, 1)) == [None]
            repository = AlertRepository(store.database)
            assert repository.migrate() == ALERTS_SCHEMA.latest
            assert [rule.id for rule in repository.rules()] == [hot.id]
        finally:
            store.close()


def _stats(columns: tuple[str, ...]) -> set[str]:
    return {f"{column}_{stat}" for column in columns for stat in ("avg", "min", "max")}


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def test_the_newest_schema_has_a_column_for_every_stored_metric(tmp_path: Path) -> None:
    """A metric added to the registry without a migration (or the reverse) fails here."""
    store = open_store(tmp_path, f"sqlite:///{tmp_path / 'h.sqlite3'}", now=time.time())
    store.close()
    with sqlite3.connect(tmp_path / "h.sqlite3") as connection:
        assert _columns(connection, "gpu_raw") == {"node", "ts", "gpu_id", *GPU_COLUMNS}
        assert _columns(connection, "host_raw") == {"node", "ts", *HOST_COLUMNS}
        for tier in ROLLUP_TIER_NAMES:
            gpu_columns = {"node", "ts", "gpu_id", "n", *_stats(GPU_COLUMNS)}
            assert _columns(connection, f"gpu_{tier}") == gpu_columns
            assert _columns(connection, f"host_{tier}") == {"node", "ts", "n", *_stats(HOST_COLUMNS)}


def test_migration_versions_must_run_in_order() -> None:
    with pytest.raises(ValueError, match=r"versions must run 1..n in order, got \[1, 3\]"):
        MigrationSet("t_version", (Migration.portable(1, ()), Migration.portable(3, ())))


def test_an_upgraded_database_gains_new_built_in_rules_and_keeps_deletions(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM alert_rules WHERE id = 'gpu-allocated-idle'")
    store = open_store(tmp_path, f"sqlite:///{path}", now=START + 130)
    try:
        repository = AlertRepository(store.database)
        assert repository.migrate() == ALERTS_SCHEMA.latest

        assert repository.seed_defaults(default_rules(0.25), START + 130)
        assert not repository.seed_defaults(default_rules(0.25), START + 131)

        ids = {rule.id for rule in repository.rules()}
        assert ids == (V1_BUILTIN_RULES - {"gpu-allocated-idle"}) | {"gpu-unresponsive"}
    finally:
        store.close()
