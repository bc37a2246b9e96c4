"""Version 7 (a history revision per node): a version-6 database upgrades in place, every node keeps its
key and rows and starts at revision 0, and the first write into settled buckets moves it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store.migrations import DialectName
from gpu_sentinel.store.schema import HISTORY
from tests.conftest import require_component
from tests.store.helpers import feed, fresh_schema, gpu, pg_available

START = 1_700_000_040
LOCAL = NodeIdentity("1" * 32, "gpu-box")
OLD_NODES = [(1, LOCAL.id, "gpu-box"), (2, "2" * 32, "other-box")]
ROW = "INSERT INTO gpu_1m (node, gpu_id, ts, n, util_gpu_avg, util_gpu_min, util_gpu_max) VALUES "


@contextmanager
def version_6(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database as version 6 left it, with two nodes and a minute of GPU 0 for the first."""
    if backend == "sqlite":
        path = tmp_path / "history.sqlite3"
        with sqlite3.connect(path) as connection:
            build(connection, "sqlite", "?")
        yield f"sqlite:///{path}"
        return
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        with psycopg.connect(url, autocommit=True) as connection:
            build(connection, "postgresql", "%s")
        yield url


def build(connection: Any, dialect: DialectName, mark: str) -> None:
    connection.execute(HISTORY.create_version_table)
    for version, statements in HISTORY.pending(dialect, 0):
        if version > 6:
            break
        for statement in statements:
            connection.execute(statement)
    connection.execute("DELETE FROM nodes")
    marks = ", ".join([mark] * 3)
    for node in OLD_NODES:
        connection.execute(
            f"INSERT INTO nodes (node, id, name, first_seen, last_seen) VALUES ({marks}, 0, 0)", node
        )
    connection.execute(ROW + f"(1, 0, {mark}, 60, 42.0, 10.0, 90.0)", (START,))
    connection.execute(
        "INSERT INTO gpus (node, gpu_id, uuid, name, first_seen, last_seen) VALUES (1, 0, 'GPU-0', 'g', 0, 0)"
    )


def revisions(store: HistoryStore) -> list[tuple[int, int]]:
    rows = store.database.query("SELECT node, history_revision FROM nodes ORDER BY node", ())
    return [(int(str(node)), int(str(revision))) for node, revision in rows]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.real_component)])
def test_a_version_6_database_upgrades_and_a_late_write_moves_only_its_nodes_revision(
    backend: str, tmp_path: Path
) -> None:
    with version_6(backend, tmp_path) as url:
        now = START + 7200
        settings = Settings(data_dir=tmp_path, database_url=url, history_cache_ttl=0)  # type: ignore[call-arg]
        store = HistoryStore.from_settings(settings, clock=lambda: now, node=LOCAL)
        store.start()
        try:
            assert store.database.migrate() == HISTORY.latest
            assert [(r.key, r.id, r.name) for r in store.nodes()] == OLD_NODES
            (minute,) = store.trends(TrendQuery(("gpu_utilization",), START, START + 60, (0,), 60)).series
            assert (minute.avg, minute.min, minute.max) == ([42.0], [10.0], [90.0])
            store.flush()
            before = dict(revisions(store))
            assert before[2] == 0
            feed(store, START + 60, 5, lambda ts: [gpu(0, util=70.0)], per_second=1)  # an hour ago and more
            after = dict(revisions(store))
            assert after[1] > before[1] and after[2] == 0
            (minute,) = store.trends(
                TrendQuery(("gpu_utilization",), START + 60, START + 120, (0,), 60)
            ).series
            assert minute.avg == [70.0]
        finally:
            store.close()
