"""Notifications through the outbox to real receivers on loopback: signed webhooks, Slack and Discord
formats, e-mail with STARTTLS and login, retries, isolation between channels, and restarts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.alerts.rules import ChannelSpec, RuleSpec
from tests.alerts.conftest import ManagerFactory, open_manager, quiet_builtins
from tests.alerts.helpers import temps
from tests.alerts.receivers import SMTP_PASSWORD, SMTP_USER, WebhookReceiver, smtp_server, webhook_server

SECRET = "webhook-signing-secret"


def hot_rule(channels: list[str] | None = None, **overrides: object) -> RuleSpec:
    values: dict[str, object] = {
        "id": "hot",
        "name": "GPU too hot",
        "metric": "gpu.temperature_c",
        "condition": ">=",
        "threshold": 85,
        "severity": "critical",
        "channels": channels,
        **overrides,
    }
    return RuleSpec.model_validate(values)


def heat_and_cool(manager: AlertManager) -> None:
    now = time.time()
    manager.ingest(temps(now, 90))
    manager.ingest(temps(now + 0.01, 60))


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def outbox_statuses(manager: AlertManager) -> list[tuple[str, str, int]]:
    _, items = manager.history(HistoryFilter())
    return sorted((item["kind"], d["status"], d["attempts"]) for item in items for d in item["deliveries"])


def test_signed_webhook_for_firing_and_resolved(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver(secret=SECRET)) as receiver:
        manager = make_manager()
        manager.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET))
        manager.create_rule(hot_rule(["hook"]))
        heat_and_cool(manager)
        firing, resolved = receiver.wait_for(2)
    assert [firing.body["status"], resolved.body["status"]] == ["firing", "resolved"]
    assert firing.signature_ok and resolved.signature_ok
    assert firing.body["rule"]["id"] == "hot" and firing.body["instance"] == "gpu0"
    assert firing.body["value"] == 90 and firing.body["unit"] == "°C"
    assert firing.headers["x-gpu-sentinel-idempotency-key"] == firing.body["idempotency_key"]
    assert firing.body["idempotency_key"] == f"{firing.body['transition_id']}:hook"
    wait_until(manager.dispatcher.idle)
    assert outbox_statuses(manager) == [("firing", "delivered", 1), ("resolved", "delivered", 1)]


def test_wrong_secret_is_detected_by_the_receiver(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver(secret="the-receivers-secret")) as receiver:
        manager = make_manager()
        manager.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url, secret="other"))
        manager.create_rule(hot_rule(["hook"]))
        heat_and_cool(manager)
        assert [r.signature_ok for r in receiver.wait_for(2)] == [False, False]


def test_receiver_failing_n_times_gets_exactly_one_delivery(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver(secret=SECRET, fail_first=3)) as receiver:
        manager = make_manager()
        manager.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET))
        manager.create_rule(hot_rule(["hook"]))
        manager.ingest(temps(time.time(), 90))
        receiver.wait_for(1)
        wait_until(manager.dispatcher.idle)
        time.sleep(0.3)
        assert len(receiver.received) == 1 and receiver.refused == 3
    assert outbox_statuses(manager) == [("firing", "delivered", 4)]


def test_slow_channel_does_not_delay_another(make_manager: ManagerFactory) -> None:
    with (
        webhook_server(WebhookReceiver(delay_s=3.0)) as slow,
        webhook_server(WebhookReceiver()) as fast,
    ):
        manager = make_manager()
        manager.create_channel(ChannelSpec(name="slow", type="webhook", url=slow.url, timeout_s=10))
        manager.create_channel(ChannelSpec(name="fast", type="webhook", url=fast.url))
        manager.create_rule(hot_rule(["slow", "fast"]))
        started = time.monotonic()
        heat_and_cool(manager)
        fast.wait_for(2, timeout_s=2.5)
        assert time.monotonic() - started < 2.5
        assert slow.received == []
        slow.wait_for(2, timeout_s=15)


def test_slack_and_discord_formats(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver()) as slack, webhook_server(WebhookReceiver()) as discord:
        manager = make_manager()
        manager.create_channel(ChannelSpec(name="slack", type="slack", url=slack.url))
        manager.create_channel(ChannelSpec(name="discord", type="discord", url=discord.url))
        manager.create_rule(hot_rule())
        manager.ingest(temps(time.time(), 91))
        (slack_message,) = slack.wait_for(1)
        (discord_message,) = discord.wait_for(1)
    assert set(slack_message.body) == {"text"} and "GPU too hot" in slack_message.body["text"]
    assert discord_message.body["content"].startswith("[FIRING] GPU too hot on GPU 0")
    assert discord_message.body["embeds"][0]["color"] == 0xD32F2F


def test_email_over_starttls_with_login(make_manager: ManagerFactory, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca_file):
        manager = make_manager()
        manager.create_channel(
            ChannelSpec(
                name="mail",
                type="email",
                smtp_host="127.0.0.1",
                smtp_port=port,
                starttls=True,
                ca_file=str(ca_file),
                username=SMTP_USER,
                password=SMTP_PASSWORD,
                sender="sentinel@example.org",
                recipients=["oncall@example.org"],
            )
        )
        manager.create_rule(hot_rule(["mail"]))
        heat_and_cool(manager)
        firing, resolved = mailbox.wait_for(2)
    assert firing["Subject"] == "[FIRING critical] GPU too hot on gpu0"
    assert resolved["Subject"].startswith("[RESOLVED critical]")
    assert firing["To"] == "oncall@example.org"
    assert firing["X-GPU-Sentinel-Idempotency-Key"].endswith(":mail")
    assert "gpu.temperature_c" in firing.get_payload()
    assert mailbox.tls == [True, True] and mailbox.logins == [SMTP_USER, SMTP_USER]


def test_severity_floor_of_a_channel(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver()) as receiver:
        manager = make_manager()
        manager.create_channel(
            ChannelSpec(name="pager", type="webhook", url=receiver.url, min_severity="critical")
        )
        manager.create_rule(hot_rule(severity="warning"))
        manager.create_rule(hot_rule(id="hotter", severity="critical", threshold=95))
        manager.ingest(temps(time.time(), 99))
        received = receiver.wait_for(1)
        time.sleep(0.3)
    assert (
        [r.body["rule"]["id"] for r in receiver.received]
        == ["hotter"]
        == [r.body["rule"]["id"] for r in received]
    )


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.real_component)])
def test_restart_during_an_outage_still_delivers_once(tmp_path: Path, backend: str) -> None:
    from tests.alerts.conftest import database_for

    urls = database_for(backend, tmp_path)
    url = next(urls)
    try:
        with webhook_server(WebhookReceiver(secret=SECRET, fail_first=10**9)) as receiver:
            first = open_manager(tmp_path, url)
            quiet_builtins(first)
            first.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET))
            first.create_rule(hot_rule(["hook"]))
            first.ingest(temps(time.time(), 90))
            wait_until(lambda: receiver.refused >= 2)
            first.stop()
            assert receiver.received == []

            receiver.fail_first = 0
            second = open_manager(tmp_path, url)
            try:
                (delivered,) = receiver.wait_for(1)
                assert delivered.body["status"] == "firing" and delivered.signature_ok
                second.ingest(temps(time.time(), 92))
                wait_until(second.dispatcher.idle)
                time.sleep(0.3)
                assert len(receiver.received) == 1
                assert [a["id"] for a in second.active()] == ["hot:gpu0"]
                assert [s for k, s, _ in outbox_statuses(second)] == ["delivered"]
            finally:
                second.stop()
    finally:
        urls.close()
