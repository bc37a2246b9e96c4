"""Nodes sharing one PostgreSQL share one alert configuration, live: a rule, channel or silence changed
on one node applies on every other without a restart, through NOTIFY and, when a notification is lost,
through the periodic version check."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.defaults import default_rules
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.repository import AlertRepository, HistoryFilter
from gpu_sentinel.alerts.rules import Matcher, RuleSpec, RuleUpdate, SilenceSpec
from gpu_sentinel.store import open_database
from gpu_sentinel.store.postgres import PostgresDatabase
from tests.alerts.conftest import fast_settings, quiet_builtins
from tests.alerts.helpers import temps
from tests.alerts.receivers import WebhookReceiver, webhook_server
from tests.conftest import require_component
from tests.store.helpers import fresh_schema, pg_available

pytestmark = pytest.mark.real_component
HOT = RuleSpec(id="hot", name="GPU hot", metric="gpu.temperature_c", condition=">=", threshold=85)
Pair = tuple[AlertManager, AlertManager]


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return result


def open_node(tmp_path: Path, url: str, name: str, poll_s: float) -> AlertManager:
    settings = fast_settings(tmp_path / name, url)
    manager = AlertManager(settings, open_database(settings), node_id=uuid.uuid4().hex)
    assert manager.follower is not None, "a shared PostgreSQL is followed"
    manager.follower.poll_s = poll_s
    manager.start()
    wait_until(manager.follower.listening.is_set, f"{name} to listen for changes")
    return manager


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        yield url


@pytest.fixture
def nodes(tmp_path: Path, pg_url: str) -> Iterator[Pair]:
    """Two nodes on one schema; the version check is slow (60 s), so only NOTIFY can be quick."""
    first = open_node(tmp_path, pg_url, "a", poll_s=60)
    second = open_node(tmp_path, pg_url, "b", poll_s=60)
    quiet_builtins(first)
    wait_until(lambda: not any(r.enabled for r in second.config.rules() if r.builtin), "b quiet")
    yield first, second
    for manager in (first, second):
        manager.stop()


def active_ids(manager: AlertManager) -> set[str]:
    return {alert["id"] for alert in manager.active()}


def firing_on(manager: AlertManager, ts: float, *celsius: float) -> set[str]:
    """Feed one snapshot and return the alerts active once the worker has evaluated it."""
    manager.ingest(temps(ts, *celsius))
    return active_ids(manager)  # a command queued behind the snapshot: it runs after the evaluation


def test_a_rule_created_on_one_node_fires_on_the_other_without_a_restart(nodes: Pair) -> None:
    first, second = nodes
    assert firing_on(second, 1000.0, 90.0) == set(), "no rule yet"

    first.config.create_rule(HOT)
    wait_until(lambda: "hot" in {r.id for r in second.config.rules()}, "the rule on the other node")
    assert firing_on(second, 1001.0, 90.0) == {"hot:gpu0"}

    first.config.update_rule("hot", RuleUpdate(threshold=95))
    wait_until(lambda: second.config.rule("hot").threshold == 95, "the new threshold")
    assert firing_on(second, 1002.0, 90.0) == set(), "the raised threshold resolved it"
    assert firing_on(second, 1003.0, 97.0) == {"hot:gpu0"}

    first.config.delete_rule("hot")
    wait_until(lambda: "hot" not in {r.id for r in second.config.rules()}, "the deletion")
    assert active_ids(second) == set()
    _, history = second.history(HistoryFilter(rule_id="hot"))
    assert [(t["rule_id"], t["state"]) for t in reversed(history)] == [
        ("hot", "firing"),
        ("hot", "resolved"),
        ("hot", "firing"),
        ("hot", "resolved"),
    ], "the deleted rule's alert resolved on the node that had it"


def test_a_channel_and_a_silence_made_on_one_node_govern_the_others_notifications(nodes: Pair) -> None:
    first, second = nodes
    with webhook_server(WebhookReceiver()) as receiver:
        first.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        first.config.create_rule(HOT.model_copy(update={"channels": ["hook"]}))
        wait_until(lambda: "hook" in {c.name for c in second.config.channels()}, "the channel")
        wait_until(lambda: "hot" in {r.id for r in second.config.rules()}, "the rule")
        now = time.time()
        firing_on(second, now, 90.0)
        (notice,) = receiver.wait_for(1)
        assert (notice.body["rule"]["id"], notice.body["status"]) == ("hot", "firing")

        silence = SilenceSpec(
            id="maintenance", matchers=[Matcher(label="gpu", value="1")], ends_at=time.time() + 3600
        )
        first.config.create_silence(silence)
        wait_until(second.config.silences, "the silence")
        firing_on(second, now + 1, 90.0, 92.0)
        _, history = second.history(HistoryFilter(gpu_id=1))
        assert [(t["state"], t["notify"], t["suppressed"]) for t in history] == [
            ("firing", False, "silenced")
        ]
        assert len(receiver.received) == 1, "the silenced GPU sent nothing"


def test_a_change_whose_notification_is_lost_arrives_by_the_version_check(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_node(tmp_path, pg_url, "writer", poll_s=60)
    reader = open_node(tmp_path, pg_url, "reader", poll_s=0.2)
    try:
        follower = reader.follower
        assert follower is not None
        wait_until(lambda: follower.handoffs, "the reader's first check, made when it starts listening")
        # The writer's notification is lost (it sends none): the version row alone tells the reader.
        monkeypatch.setattr(writer.database, "backend", "postgresql, notification lost")
        writer.config.create_rule(HOT)
        wait_until(lambda: "hot" in {r.id for r in reader.config.rules()}, "the rule by the version check")
        assert "hot:gpu0" in firing_on(reader, time.time(), 90.0)
    finally:
        writer.stop()
        reader.stop()


def test_nodes_first_starting_together_seed_the_built_in_rules_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nodes read "nothing seeded yet" before either commits: the second's seeding must neither fail
    (its start would abort) nor add a second copy."""
    first_db, second_db = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    try:
        first, second = AlertRepository(first_db, "a" * 32), AlertRepository(second_db, "b" * 32)
        first.migrate()
        rules = default_rules(0.25)
        read = second_db.query
        monkeypatch.setattr(
            second_db, "query", lambda sql, params=(): [] if "seeded:%" in params else read(sql, params)
        )
        assert first.seed_defaults(rules, 1.0) is True
        second.seed_defaults(rules, 2.0)  # as if it read before the first committed
        assert sorted(r.id for r in first.rules()) == sorted(r.id for r in rules)
    finally:
        first_db.close()
        second_db.close()
