"""The history suite runs against both backends: every test taking ``make_store`` runs on SQLite and on
the real PostgreSQL server (skipped locally when none answers, never under CI=true)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import HistoryStore
from tests.conftest import require_component
from tests.store.helpers import fresh_schema, pg_available

StoreFactory = Callable[..., HistoryStore]
BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.real_component)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.sqlite3'}"
        return
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        yield url


@pytest.fixture
def make_store(database_url: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and starts) stores on this test's database; whatever is still open is closed at the end."""
    opened: list[HistoryStore] = []

    def factory(
        clock: Callable[[], float] | None = None, node: NodeIdentity | None = None, **overrides: object
    ) -> HistoryStore:
        """``node``: a node of its own, with a data directory of its own, on the same database."""
        values: dict[str, object] = {"history_cache_ttl": 0, **overrides}
        data_dir = tmp_path / node.name if node else tmp_path
        settings = Settings(data_dir=data_dir, database_url=database_url, **values)  # type: ignore[arg-type]
        store = HistoryStore.from_settings(settings, clock=clock or time.time, node=node)
        store.start()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()
