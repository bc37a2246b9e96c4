"""Alert persistence on SQLite and PostgreSQL: own versioned schema, defaults seeded once, transitions
with their outbox rows in one transaction, exactly-once delivery marks, history filters and retention."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.defaults import default_rules
from gpu_sentinel.alerts.engine import AlertEngine
from gpu_sentinel.alerts.repository import ALERTS_SCHEMA, AlertRepository, HistoryFilter
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.config import Settings
from gpu_sentinel.store import open_database
from tests.alerts.helpers import temps


@pytest.fixture
def repository(database_url: str, tmp_path: object) -> Iterator[AlertRepository]:
    settings = Settings(data_dir=tmp_path, database_url=database_url)  # type: ignore[arg-type]
    database = open_database(settings)
    repo = AlertRepository(database)
    repo.migrate()
    yield repo
    database.close()


def record_fire_and_resolve(repo: AlertRepository, channels: list[str]) -> list[str]:
    rule = RuleSpec(id="hot", name="Hot", metric="gpu.temperature_c", threshold=85, severity="critical")
    engine = AlertEngine([rule])
    ids = []
    for ts, temperature in ((100.0, 90.0), (200.0, 60.0)):
        (transition,) = engine.evaluate(temps(ts, temperature))
        instance = engine.instance("hot", 0)
        repo.record([(transition, channels, instance)], ts)
        ids.append(transition.id)
    return ids


def test_migration_is_idempotent_and_apart_from_history(repository: AlertRepository) -> None:
    assert repository.migrate() == ALERTS_SCHEMA.latest
    count = repository.database.query("SELECT COUNT(*) FROM alerts_schema_version")[0][0]
    assert count == ALERTS_SCHEMA.latest


def test_defaults_are_seeded_once(repository: AlertRepository) -> None:
    assert repository.seed_defaults(default_rules(0.25), 0)
    repository.delete_rule("gpu-allocated-idle")
    assert not repository.seed_defaults(default_rules(0.25), 1)
    ids = {rule.id for rule in repository.rules()}
    assert "gpu-temperature-critical" in ids and "gpu-allocated-idle" not in ids


def test_channel_secrets_are_stored(repository: AlertRepository) -> None:
    channel = ChannelSpec(name="hook", type="webhook", url="http://127.0.0.1:9/x", secret="k")
    repository.save_channels([channel], 0)
    (loaded,) = repository.channels()
    assert loaded.secret is not None and loaded.secret.get_secret_value() == "k"


def test_transitions_and_outbox_rows_are_written_together(repository: AlertRepository) -> None:
    record_fire_and_resolve(repository, ["a", "b"])
    pending = repository.pending_outbox()
    assert [(p.channel, p.payload["status"]) for p in pending] == [
        ("a", "firing"),
        ("b", "firing"),
        ("a", "resolved"),
        ("b", "resolved"),
    ]
    assert pending[0].id == f"{pending[0].transition_id}:a"
    assert repository.instances() == []


def test_a_row_is_marked_delivered_once(repository: AlertRepository) -> None:
    record_fire_and_resolve(repository, ["a"])
    first = repository.pending_outbox()[0]
    repository.mark_delivered(first.id, 300)
    repository.mark_delivered(first.id, 400)
    repository.mark_failed(first.id, 9, "late failure")
    deliveries = repository.deliveries([first.transition_id])[first.transition_id]
    assert deliveries == [
        {"channel": "a", "status": "delivered", "attempts": 1, "delivered_at": 300.0, "last_error": None}
    ]
    assert len(repository.pending_outbox()) == 1


def test_active_alert_state_survives(repository: AlertRepository) -> None:
    rule = RuleSpec(id="hot", name="Hot", metric="gpu.temperature_c", threshold=85)
    engine = AlertEngine([rule])
    (transition,) = engine.evaluate(temps(100, 90))
    repository.record([(transition, [], engine.instance("hot", 0))], 100)
    (instance,) = repository.instances()
    assert (instance.rule_id, instance.key, instance.state, instance.notified) == ("hot", 0, "firing", True)
    assert repository.last_notified() == [("hot", 0, 100.0)]


def test_history_filters_and_pages(repository: AlertRepository) -> None:
    record_fire_and_resolve(repository, ["a"])
    total, items = repository.history(HistoryFilter(limit=1))
    assert total == 2 and [i["state"] for i in items] == ["resolved"]
    assert items[0]["deliveries"][0]["status"] == "pending"
    _, items = repository.history(HistoryFilter(limit=1, offset=1))
    assert [i["state"] for i in items] == ["firing"] and items[0]["value"] == 90
    assert repository.history(HistoryFilter(state="firing", gpu_id=0, severity="critical"))[0] == 1
    assert repository.history(HistoryFilter(rule_id="other"))[0] == 0
    assert repository.history(HistoryFilter(start=150, end=250))[0] == 1


def test_retention_keeps_what_is_still_owed(repository: AlertRepository) -> None:
    record_fire_and_resolve(repository, ["a"])
    firing = repository.pending_outbox()[0]
    repository.mark_delivered(firing.id, 300)
    repository.prune(before=1000)
    total, items = repository.history(HistoryFilter())
    assert total == 1 and items[0]["state"] == "resolved"
