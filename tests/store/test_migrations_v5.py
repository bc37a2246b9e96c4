"""Version 5 (the node): a version-2 database upgrades in place (through versions 3 and 4) and its rows
become the local node's, keeping what versions 3 and 4 added; on a shared PostgreSQL only the first node
to start after the upgrade inherits them."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gpu_sentinel.alerts.repository import ALERTS_SCHEMA, AlertRepository, HistoryFilter
from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store.migrations import MigrationSet
from gpu_sentinel.store.schema import HISTORY
from tests.conftest import require_component
from tests.store.helpers import fresh_schema, gpu, pg_available, snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "history-v2.sqlite3"
START = 1_699_999_980
LOCAL = NodeIdentity("1" * 32, "gpu-box")
OTHER = NodeIdentity("2" * 32, "other-box")


def open_store(data_dir: Path, url: str, node: NodeIdentity, now: float) -> HistoryStore:
    settings = Settings(data_dir=data_dir, database_url=url, history_cache_ttl=0)  # type: ignore[call-arg]
    store = HistoryStore.from_settings(settings, clock=lambda: now, node=node)
    store.start()
    return store


def averages(
    store: HistoryStore, metric: str, gpu_id: int, window: tuple[int, int, int]
) -> list[float | None]:
    start, end, bucket = window
    (found,) = store.trends(TrendQuery((metric,), start, end, (gpu_id,), bucket)).series
    return found.avg


def test_a_version_2_sqlite_file_upgrades_and_its_rows_are_the_local_nodes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    store = open_store(tmp_path, f"sqlite:///{path}", LOCAL, now=START + 130)
    try:
        assert store.database.migrate() == HISTORY.latest
        assert [(node.key, node.id, node.name) for node in store.nodes()] == [(1, LOCAL.id, "gpu-box")]
        assert store.gpu_ids() == [0, 1]
        assert averages(store, "gpu_utilization", 0, (START + 10, START + 13, 1)) == [10.0, 11.0, 12.0]
        assert averages(store, "temperature", 0, (START + 40, START + 42, 1)) == [60.0, 61.0]
        assert averages(store, "power_watts", 0, (START + 119, START + 120, 1)) == [219.0]
        assert averages(store, "nvlink_tx_bytes_per_s", 0, (START, START + 1, 1)) == [1e9]
        assert averages(store, "gpu_utilization", 1, (START, START + 120, 60)) == [25.0, 25.0]
        assert averages(store, "cpu_utilization", 0, (START, START + 1, 1)) == [30.0]
        (alice,) = store.usage(START, START + 120).users
        assert (alice.user, alice.nodes, alice.processes) == ("alice", ["gpu-box"], 1)
        # New rows of the same GPUs after the upgrade land beside the old ones, as the same node.
        later = START + 125
        for i in range(4):
            store.ingest(snapshot(i, later + i / 4, [gpu(0, util=77.0)]))
        assert store.flush()
        assert averages(store, "gpu_utilization", 0, (START + 119, later + 1, 1))[-1] == 77.0
        alerts = AlertRepository(store.database, LOCAL.id)
        assert alerts.migrate() == ALERTS_SCHEMA.latest
        assert len(alerts.rules()) == 8
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        keys = connection.execute("SELECT DISTINCT node FROM gpu_raw").fetchall()
        uuids = connection.execute("SELECT node, uuid, gpu_id FROM gpus ORDER BY gpu_id").fetchall()
    assert keys == [(1,)]
    assert uuids == [(1, "GPU-0", 0), (1, "GPU-1", 1)]


def test_owners_sm_seconds_and_profiling_written_before_the_node_upgrade_survive_it(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as connection:
        for version, statements in HISTORY.pending("sqlite", 2):
            if version > 4:
                break
            for statement in statements:
                connection.execute(statement)
        connection.execute(
            "UPDATE process_1m SET container_id = 'c0ffee', pod_name = 'trainer-0', slurm_job_id = '4242', "
            "sm_seconds = 30.0 WHERE pid = 100"
        )
        connection.execute("UPDATE gpu_raw SET prof_sm = 55.0 WHERE gpu_id = 0")
        connection.execute("UPDATE gpu_1m SET prof_sm_avg = 55.0, prof_sm_max = 56.0 WHERE gpu_id = 0")
    store = open_store(tmp_path, f"sqlite:///{path}", LOCAL, now=START + 130)
    try:
        report = store.usage(START, START + 120)
        (process,) = report.processes
        assert (process.node, process.container_id, process.pod_name, process.slurm_job_id) == (
            "gpu-box",
            "c0ffee",
            "trainer-0",
            "4242",
        )
        (container,) = report.containers
        assert (container.id, container.nodes, container.details["pod_name"]) == (
            "c0ffee",
            ["gpu-box"],
            "trainer-0",
        )
        (job,) = report.jobs
        assert job.id == "4242"
        assert process.sm_hours == pytest.approx(2 * 30.0 / 3600)  # two minute rows, 30 SM-seconds each
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT MAX(version) FROM schema_version").fetchone() == (HISTORY.latest,)
        raw = connection.execute("SELECT DISTINCT node, prof_sm FROM gpu_raw WHERE gpu_id = 0").fetchall()
        minute = connection.execute(
            "SELECT node, prof_sm_avg, prof_sm_max FROM gpu_1m WHERE gpu_id = 0 AND ts = ?", (START,)
        ).fetchall()  # the last minute is rolled up again from raw on start; this one is as copied
    assert raw == [(1, 55.0)]
    assert minute == [(1, 55.0, 56.0)]


def create_version_2(connection: psycopg.Connection[Any], schema: MigrationSet) -> None:
    """What the release before nodes made: versions 1 and 2, recorded as applied."""
    connection.execute(schema.create_version_table.encode())
    for version, statements in schema.pending("postgresql", 0):
        if version > 2:
            break
        for statement in statements:
            connection.execute(statement.encode())


V2_GPU_ROW = "INSERT INTO gpu_raw (ts, gpu_id, util_gpu, nvlink_tx) VALUES (%s, 0, %s, 5.0)"


@pytest.mark.real_component
def test_on_a_shared_postgresql_only_the_first_node_to_upgrade_inherits_the_old_rows(tmp_path: Path) -> None:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        with psycopg.connect(url, autocommit=True) as connection:
            create_version_2(connection, HISTORY)
            connection.execute(
                b"INSERT INTO gpus (gpu_id, uuid, name, memory_total_bytes, first_seen, last_seen) "
                b"VALUES (0, NULL, 'Old GPU', 1, %s, %s)",
                (START, START + 10),
            )
            for second in range(10):
                connection.execute(V2_GPU_ROW.encode(), (START + second, float(second)))
            create_version_2(connection, ALERTS_SCHEMA)
            connection.execute(
                b"INSERT INTO alert_instances (rule_id, instance_key, body) VALUES ('gpu-hot', 0, '{}')"
            )
        first = open_store(tmp_path / "first", url, LOCAL, now=START + 20)
        second = open_store(tmp_path / "second", url, OTHER, now=START + 20)
        try:
            assert first.gpu_ids() == [0]
            assert averages(first, "gpu_utilization", 0, (START, START + 3, 1)) == [0.0, 1.0, 2.0]
            assert averages(first, "nvlink_tx_bytes_per_s", 0, (START, START + 1, 1)) == [5.0]
            assert second.gpu_ids() == []
            assert second.node_key() != first.node_key()
            assert second.gpu_ids("gpu-box") == [0]
            mine, theirs = (
                AlertRepository(first.database, LOCAL.id),
                AlertRepository(second.database, OTHER.id),
            )
            assert mine.migrate() == theirs.migrate() == ALERTS_SCHEMA.latest
            rows = first.database.query("SELECT node_id, rule_id FROM alert_instances")
            assert rows == [(LOCAL.id, "gpu-hot")]
            assert theirs.history(HistoryFilter()) == (0, [])
        finally:
            first.close()
            second.close()
        with psycopg.connect(url) as connection:
            rows = connection.execute(b"SELECT node, uuid FROM gpus").fetchall()
        assert rows == [(1, "index:0")]


def test_the_upgrade_is_one_transaction(tmp_path: Path) -> None:
    """A node upgrade that fails part-way leaves the version-2 file as it was."""
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE gpu_5s_v5 (blocker INTEGER)")  # the rebuild's name is taken
    store = open_store(tmp_path, f"sqlite:///{path}", LOCAL, now=time.time())
    try:
        assert not store.status().writer.connected
    finally:
        store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT MAX(version) FROM schema_version").fetchone() == (2,)
        assert connection.execute("SELECT COUNT(*) FROM gpu_raw").fetchone() == (240,)
        assert "node" not in {row[1] for row in connection.execute("PRAGMA table_info(gpu_raw)")}
