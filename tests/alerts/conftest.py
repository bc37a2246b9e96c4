"""Alert managers on a real database (SQLite, and PostgreSQL where a test asks for both), with the
built-in rules switched off so a test hears only the rules it makes, and fast retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.rules import RuleUpdate
from gpu_sentinel.config import Settings
from tests.conftest import require_component
from tests.store.helpers import fresh_schema, pg_available

ManagerFactory = Callable[..., AlertManager]
BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.real_component)]


def database_for(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.sqlite3'}"
        return
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_for(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield from database_for("sqlite", tmp_path)


def fast_settings(tmp_path: Path, url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "alert_retry_initial_s": 0.05,
        "alert_retry_max_s": 0.2,
        "alert_cooldown_minutes": 0,
        "alert_watchdog_interval_s": 0.1,
        **overrides,
    }
    return Settings(data_dir=tmp_path, database_url=url, log_file=None, **values)  # type: ignore[arg-type]


def quiet_builtins(manager: AlertManager) -> None:
    for rule in manager.config.rules():
        if rule.builtin:
            manager.config.update_rule(rule.id, RuleUpdate(enabled=False))


def open_manager(tmp_path: Path, url: str, **overrides: object) -> AlertManager:
    manager = AlertManager.from_settings(fast_settings(tmp_path, url, **overrides))
    manager.start()
    return manager


@pytest.fixture
def make_manager(tmp_path: Path, sqlite_url: str) -> Iterator[ManagerFactory]:
    opened: list[AlertManager] = []

    def factory(url: str | None = None, *, builtins: bool = False, **overrides: object) -> AlertManager:
        manager = open_manager(tmp_path, url or sqlite_url, **overrides)
        if not builtins:
            quiet_builtins(manager)
        opened.append(manager)
        return manager

    yield factory
    for manager in opened:
        manager.stop()
