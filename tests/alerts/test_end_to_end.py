"""The whole path on simulated GPUs: a rule created over the API goes pending, firing and resolved on a
GPU driven past its threshold; an injected XID and a lost GPU fire the built-in rules; a mail and a
signed webhook arrive for each notified transition, also across a restart during an outage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.alerts.receivers import SMTP_PASSWORD, SMTP_USER, WebhookReceiver, smtp_server, webhook_server
from tests.api.conftest import ADMIN, FAST_HASHER, bearer, make_client

SECRET = "e2e-secret"
BUSY_RULE = {
    "id": "busy",
    "name": "GPU 1 busy",
    "metric": "gpu.utilization_pct",
    "condition": ">",
    "threshold": 30,
    "for": "0.5s",
    "gpu_id": 1,
    "severity": "warning",
    "channels": ["hook", "mail"],
}


def idle_gpus(count: int = 2) -> SimulatedGPUs:
    gpus = SimulatedGPUs(count, seed=3, xid_mean_interval_s=1e12)
    for index in range(count):
        gpus.force_load(index, 0)
    return gpus


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        gpu_poll_interval=0.05,
        rate_limit=0,
        anonymous_read=False,
        alert_retry_initial_s=0.05,
        alert_retry_max_s=0.2,
        alert_cooldown_minutes=0,
    )


@contextmanager
def running(settings: Settings, gpus: SimulatedGPUs) -> Iterator[tuple[TestClient, dict[str, str]]]:
    service = Service(settings, gpu_source=gpus)
    service.auth.users.hasher = FAST_HASHER
    if service.auth.users.get(ADMIN[0]) is None:
        service.auth.users.add(*ADMIN, role="admin")
    with make_client(settings, service) as client:
        yield client, bearer(client, ADMIN)


def wait_for_state(client: TestClient, headers: dict[str, str], alert: str, state: str | None) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        active = {a["id"]: a["state"] for a in client.get("/api/v1/alerts", headers=headers).json()["alerts"]}
        if active.get(alert) == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"{alert} never became {state}")


def add_channels(client: TestClient, admin: dict[str, str], hook_url: str, smtp: dict[str, Any]) -> None:
    hook = {"name": "hook", "type": "webhook", "url": hook_url, "secret": SECRET}
    assert client.post("/api/v1/alerts/channels", json=hook, headers=admin).status_code == 201
    assert client.post("/api/v1/alerts/channels", json=smtp, headers=admin).status_code == 201


def mail_channel(port: int, ca_file: Path) -> dict[str, Any]:
    return {
        "name": "mail",
        "type": "email",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "ca_file": str(ca_file),
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "sender": "sentinel@example.org",
        "recipients": ["oncall@example.org"],
        "min_severity": "warning",
    }


def test_rule_over_the_api_pending_firing_resolved(tmp_path: Path) -> None:
    gpus = idle_gpus()
    with (
        webhook_server(WebhookReceiver(secret=SECRET)) as receiver,
        smtp_server(tmp_path) as (mailbox, port, ca_file),
        running(settings_for(tmp_path), gpus) as (client, admin),
    ):
        add_channels(client, admin, receiver.url, mail_channel(port, ca_file))
        assert client.post("/api/v1/alerts/rules", json=BUSY_RULE, headers=admin).status_code == 201

        gpus.force_load(1, 100)
        wait_for_state(client, admin, "busy:gpu1", "pending")
        wait_for_state(client, admin, "busy:gpu1", "firing")
        (firing,) = receiver.wait_for(1)
        assert firing.signature_ok and firing.body["status"] == "firing" and firing.body["gpu"]["index"] == 1
        acked = client.post("/api/v1/alerts/busy:gpu1/ack", headers=admin)
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == ADMIN[0]

        gpus.force_load(1, 0)
        wait_for_state(client, admin, "busy:gpu1", None)
        firing, resolved = receiver.wait_for(2)
        assert resolved.body["status"] == "resolved" and resolved.signature_ok
        subjects = [m["Subject"] for m in mailbox.wait_for(2)]
        assert subjects == ["[FIRING warning] GPU 1 busy on gpu1", "[RESOLVED warning] GPU 1 busy on gpu1"]

        deadline = time.monotonic() + 5
        while True:
            history = client.get(
                "/api/v1/alerts/history", params={"rule_id": "busy", "gpu_id": 1}, headers=admin
            ).json()
            statuses = {d["status"] for item in history["items"] for d in item["deliveries"]}
            if statuses == {"delivered"} or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        states = [item["state"] for item in history["items"]]
        assert states[0] == "resolved" and states.count("firing") == 1 and states[-1] == "pending"
        assert [item["state"] for item in history["items"] if item["notify"]] == ["resolved", "firing"]
        assert statuses == {"delivered"}
        assert len(receiver.received) == 2 and len(mailbox.messages) == 2


def test_injected_xid_and_lost_gpu_fire_the_builtin_rules(tmp_path: Path) -> None:
    gpus = idle_gpus()
    with (
        webhook_server(WebhookReceiver(secret=SECRET)) as receiver,
        running(settings_for(tmp_path), gpus) as (client, admin),
    ):
        hook = {"name": "hook", "type": "webhook", "url": receiver.url, "secret": SECRET}
        client.post("/api/v1/alerts/channels", json=hook, headers=admin)
        gpus.inject_xid(0, 79)
        wait_for_state(client, admin, "gpu-xid:gpu0", "firing")
        gpus.set_lost(1)
        wait_for_state(client, admin, "gpu-lost:gpu1", "firing")
        received = receiver.wait_for(2)
    by_rule = {r.body["rule"]["id"]: r.body for r in received}
    assert by_rule["gpu-xid"]["value"] == 79 and by_rule["gpu-xid"]["severity"] == "critical"
    assert by_rule["gpu-lost"]["instance"] == "gpu1"


def test_service_restart_during_an_outage_delivers_afterwards(tmp_path: Path) -> None:
    gpus = idle_gpus()
    settings = settings_for(tmp_path)
    with webhook_server(WebhookReceiver(secret=SECRET, fail_first=10**9)) as receiver:
        with running(settings, gpus) as (client, admin):
            hook = {"name": "hook", "type": "webhook", "url": receiver.url, "secret": SECRET}
            client.post("/api/v1/alerts/channels", json=hook, headers=admin)
            client.post("/api/v1/alerts/rules", json={**BUSY_RULE, "channels": ["hook"]}, headers=admin)
            gpus.force_load(1, 100)
            wait_for_state(client, admin, "busy:gpu1", "firing")
            deadline = time.monotonic() + 10
            while receiver.refused < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert receiver.refused >= 2 and receiver.received == []

        receiver.fail_first = 0
        with running(settings, gpus) as (client, admin):
            (delivered,) = receiver.wait_for(1)
            assert delivered.body["status"] == "firing" and delivered.signature_ok
            wait_for_state(client, admin, "busy:gpu1", "firing")
            time.sleep(0.5)
            assert len(receiver.received) == 1
