"""Acknowledging a fleet alert through the API of two real hubs on the real PostgreSQL: an admin acks it
on the hub that does not evaluate the fleet rules, the evaluating one stops repeating it, and so does
the hub that takes over when that one stops; viewers may not ack, an unknown alert is 404. The
evaluating hub's own writes never undo an ack made meanwhile."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.alerts.engine import Instance
from gpu_sentinel.alerts.repository import AlertRepository, HistoryFilter
from gpu_sentinel.fleet.alerts import NODE_OFFLINE_ID, FleetAlertRepository
from gpu_sentinel.service import Service
from gpu_sentinel.store.postgres import PostgresDatabase
from tests.alerts.receivers import WebhookReceiver, webhook_server
from tests.api.conftest import ADMIN, FAST_HASHER, VIEWER, bearer, make_client
from tests.fleet.conftest import NodeFactory, fleet_settings, wait_until

pytestmark = pytest.mark.real_component
REPEAT_S = 1.2
ALERT = f"{NODE_OFFLINE_ID}:alpha"


class Hub:
    """A hub app with an admin and a viewer, started until ``stop``."""

    def __init__(self, client: TestClient, service: Service) -> None:
        self._running = contextlib.ExitStack()
        self.client = self._running.enter_context(client)
        self.service = service
        self.admin = bearer(client, ADMIN)
        self.viewer = bearer(client, VIEWER)

    def stop(self) -> None:
        self._running.close()

    def leads(self) -> bool:
        body = self.client.get("/api/v1/fleet/nodes", headers=self.viewer).json()
        return bool(body["hub"]["evaluates_fleet_alerts"])

    def fleet_alerts(self) -> dict[str, dict[str, Any]]:
        response = self.client.get("/api/v1/fleet/alerts", headers=self.viewer)
        assert response.status_code == 200, response.text
        return {alert["id"]: alert for alert in response.json()["alerts"]}

    def repeats_recorded(self) -> int:
        evaluator = self.service.fleet.alerts
        assert evaluator is not None
        _, items = evaluator.repository.history(HistoryFilter(rule_id=NODE_OFFLINE_ID))
        return sum(1 for t in items if t["instance"] == "alpha" and t["kind"] == "repeat")


@pytest.fixture
def hubs(tmp_path: Path, pg_url: str) -> Iterator[list[Hub]]:
    hubs: list[Hub] = []
    try:
        for name in ("hub-1", "hub-2"):
            settings = fleet_settings(
                tmp_path / name,
                node_name=name,
                hub=True,
                database_url=pg_url,
                enable_gpu_monitoring=False,
                alerts_enabled=True,
                anonymous_read=False,
                alert_cooldown_minutes=0,
                alert_repeat_interval_minutes=REPEAT_S / 60,
                alert_retry_initial_s=0.05,
            )
            service = Service(settings)
            service.auth.users.hasher = FAST_HASHER
            service.auth.users.add(*ADMIN, role="admin")
            service.auth.users.add(*VIEWER, role="viewer")
            hubs.append(Hub(make_client(settings, service), service))
        yield hubs
    finally:
        for hub in hubs:
            hub.stop()


def node_names(hub: Hub) -> set[str]:
    return {n["name"] for n in hub.client.get("/api/v1/fleet/nodes", headers=hub.viewer).json()["nodes"]}


def alpha_notices(receiver: WebhookReceiver) -> list[str]:
    with receiver.event:
        return [
            r.body["kind"]
            for r in receiver.received
            if r.body["rule"]["id"] == NODE_OFFLINE_ID and r.body["node"]["name"] == "alpha"
        ]


def test_an_acked_fleet_alert_shows_acknowledged_and_stops_repeating_also_after_failover(
    hubs: list[Hub], make_node: NodeFactory, pg_url: str
) -> None:
    first, second = hubs
    with webhook_server(WebhookReceiver()) as receiver:
        channel = {"name": "hook", "type": "webhook", "url": receiver.url}
        assert (
            first.client.post("/api/v1/alerts/channels", json=channel, headers=first.admin).status_code == 201
        )
        alpha = make_node("alpha", gpus=1, database_url=pg_url)
        leader = wait_until(lambda: next((h for h in (first, second) if h.leads()), None), "a leading hub")
        other = second if leader is first else first
        wait_until(lambda: "alpha" in node_names(leader) & node_names(other), "alpha on both hubs")

        alpha.stop()
        wait_until(lambda: alpha_notices(receiver)[:2] == ["firing", "repeat"], "firing, then a repeat")
        listed = other.fleet_alerts()[ALERT]
        assert (listed["node"], listed["gpu_id"], listed["acknowledged"]) == ("alpha", None, False)

        url = f"/api/v1/fleet/alerts/{ALERT}/ack"
        assert other.client.post(url, headers=other.viewer).status_code == 403
        unknown = other.client.post(f"/api/v1/fleet/alerts/{NODE_OFFLINE_ID}:nobody/ack", headers=other.admin)
        assert unknown.status_code == 404
        acked = other.client.post(url, headers=other.admin)
        assert acked.status_code == 200, acked.text
        assert (acked.json()["acknowledged"], acked.json()["acknowledged_by"]) == (True, ADMIN[0])
        assert leader.fleet_alerts()[ALERT]["acknowledged_by"] == ADMIN[0]

        # The evaluating hub reads the ack when the alert would next repeat; from then on it repeats no more.
        evaluator = leader.service.fleet.alerts
        assert evaluator is not None
        wait_until(
            lambda: any(i.acked_at is not None for i in evaluator.rules.active.values()),
            "the evaluating hub to read the ack",
        )
        repeats = leader.repeats_recorded()
        wait_until(lambda: alpha_notices(receiver).count("repeat") == repeats, "the repeats owed")

        leader.stop()
        wait_until(other.leads, "the other hub to take over")
        time.sleep(3 * REPEAT_S)  # three repeat intervals: an unacknowledged alert would repeat thrice
        assert other.repeats_recorded() == repeats
        assert alpha_notices(receiver).count("repeat") == repeats
        assert other.fleet_alerts()[ALERT]["acknowledged"] is True


def test_the_evaluators_writes_keep_an_ack_it_has_not_read_but_not_on_a_later_firing(pg_url: str) -> None:
    database = PostgresDatabase(pg_url)
    try:
        database.migrate()
        AlertRepository(database).migrate()
        fleet = FleetAlertRepository.sharing(AlertRepository(database))
        firing = Instance(NODE_OFFLINE_ID, 7, "firing", 100.0, 105.0, 5.0, fired_at=105.0, notified=True)
        fleet.save_instance(firing)
        fleet.acknowledge_stored(firing, "ana", 106.0)
        fleet.save_instance(replace(firing, last_true=110.0, value=10.0, last_notified_at=110.0))
        (stored,) = fleet.instances()
        assert (stored.acked_by, stored.acked_at, stored.value) == ("ana", 106.0, 10.0)

        fleet.save_instance(replace(firing, active_since=200.0))  # fired again since: not acknowledged
        (later,) = fleet.instances()
        assert (later.active_since, later.acked_at) == (200.0, None)
        fleet.acknowledge_stored(firing, "ana", 201.0)  # an ack of the earlier firing does not touch it
        assert fleet.instances()[0].acked_at is None
    finally:
        database.close()
