"""Notifications through the outbox to real receivers on loopback: signed webhooks, Slack and Discord
formats, e-mail with STARTTLS and login, retries, isolation between channels, and restarts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.notifiers import excerpt
from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.alerts.rules import RuleSpec
from tests.alerts.conftest import ManagerFactory, open_manager, quiet_builtins
from tests.alerts.helpers import temps
from tests.alerts.receivers import SMTP_USER, WebhookReceiver, mail_channel, smtp_server, webhook_server

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
        manager.config.create_channel(
            ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET)
        )
        manager.config.create_rule(hot_rule(["hook"]))
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
        manager.config.create_channel(
            ChannelSpec(name="hook", type="webhook", url=receiver.url, secret="other")
        )
        manager.config.create_rule(hot_rule(["hook"]))
        heat_and_cool(manager)
        assert [r.signature_ok for r in receiver.wait_for(2)] == [False, False]


def test_receiver_failing_n_times_gets_exactly_one_delivery(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver(secret=SECRET, fail_first=3)) as receiver:
        manager = make_manager()
        manager.config.create_channel(
            ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET)
        )
        manager.config.create_rule(hot_rule(["hook"]))
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
        manager.config.create_channel(ChannelSpec(name="slow", type="webhook", url=slow.url, timeout_s=10))
        manager.config.create_channel(ChannelSpec(name="fast", type="webhook", url=fast.url))
        manager.config.create_rule(hot_rule(["slow", "fast"]))
        started = time.monotonic()
        heat_and_cool(manager)
        fast.wait_for(2, timeout_s=2.5)
        assert time.monotonic() - started < 2.5
        assert slow.received == []
        slow.wait_for(2, timeout_s=15)


def test_slack_and_discord_formats(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver()) as slack, webhook_server(WebhookReceiver()) as discord:
        manager = make_manager()
        manager.config.create_channel(ChannelSpec(name="slack", type="slack", url=slack.url))
        manager.config.create_channel(ChannelSpec(name="discord", type="discord", url=discord.url))
        manager.config.create_rule(hot_rule())
        manager.ingest(temps(time.time(), 91))
        (slack_message,) = slack.wait_for(1)
        (discord_message,) = discord.wait_for(1)
    assert set(slack_message.body) == {"text"} and "GPU too hot" in slack_message.body["text"]
    assert discord_message.body["content"].startswith("[FIRING] GPU too hot on GPU 0")
    assert discord_message.body["embeds"][0]["color"] == 0xD32F2F


def test_email_over_starttls_with_login(make_manager: ManagerFactory, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca_file):
        manager = make_manager()
        manager.config.create_channel(mail_channel(port, ca_file))
        manager.config.create_rule(hot_rule(["mail"]))
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
        manager.config.create_channel(
            ChannelSpec(name="pager", type="webhook", url=receiver.url, min_severity="critical")
        )
        manager.config.create_rule(hot_rule(severity="warning"))
        manager.config.create_rule(hot_rule(id="hotter", severity="critical", threshold=95))
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
            first.config.create_channel(
                ChannelSpec(name="hook", type="webhook", url=receiver.url, secret=SECRET)
            )
            first.config.create_rule(hot_rule(["hook"]))
            first.ingest(temps(time.time(), 90))
            wait_until(lambda: receiver.refused >= 2)
            first.stop()
            assert receiver.received == []

            receiver.fail_first, receiver.refuse_opened_before = 0, time.monotonic()
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


def test_a_stopped_manager_sends_nothing_more_even_if_a_cancellation_is_lost(
    make_manager: ManagerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before Python 3.12, asyncio.wait_for loses a cancellation that arrives as its inner call ends
    (gh-86296); a lane that lived on after stop() would keep sending beside the next process."""
    real_wait_for = asyncio.wait_for

    async def wait_for_losing_cancellations(awaitable: Any, timeout: float | None) -> Any:
        try:
            return await real_wait_for(awaitable, timeout)
        except asyncio.CancelledError:
            return None

    with webhook_server(WebhookReceiver(fail_first=10**9)) as receiver:
        manager = make_manager()
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        manager.config.create_rule(hot_rule(["hook"]))
        monkeypatch.setattr(asyncio, "wait_for", wait_for_losing_cancellations)
        manager.ingest(temps(time.time(), 90))
        wait_until(lambda: receiver.refused >= 2)
        manager.stop()
        refused = receiver.refused
        time.sleep(0.5)  # retries are 0.05-0.2 s apart: a lane still alive would have sent again
        assert receiver.refused == refused


def test_delivery_uses_kept_credentials_and_never_logs_them(
    make_manager: ManagerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    token, bearer = "tok-27182818284", "Bearer hdr-1618033"
    with webhook_server(WebhookReceiver(secret=SECRET, fail_first=2)) as receiver:
        manager = make_manager()
        manager.config.create_channel(
            ChannelSpec(
                name="hook",
                type="webhook",
                url=f"{receiver.url}?token={token}",
                secret=SECRET,
                headers={"Authorization": bearer},
            )
        )
        manager.config.replace_channel(
            "hook", ChannelReplacement(name="hook", type="webhook", min_severity="warning")
        )
        manager.config.create_rule(hot_rule(["hook"]))
        manager.ingest(temps(time.time(), 90))
        (delivered,) = receiver.wait_for(1)
        wait_until(manager.dispatcher.idle)
    assert delivered.path == f"/hook?token={token}" and delivered.signature_ok
    assert delivered.headers["authorization"] == bearer
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("gpu_sentinel.alerts")]
    assert len([m for m in failures if "to hook failed" in m and "HTTP 503" in m]) == 2
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "127.0.0.1" in receiver.url and receiver.url not in logged
    assert token not in logged and bearer not in logged and SECRET not in logged
    _, items = manager.history(HistoryFilter())
    assert token not in str(items) and receiver.url not in str(items)


FORGED = "\n2026-12-01 03:00:00,000 - gpu_sentinel.auth - CRITICAL - FORGED-BY-RECEIVER admin password reset"


def test_a_receivers_error_body_cannot_forge_log_lines(
    make_manager: ManagerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gpu_sentinel.alerts")
    body = ("busy\r" + FORGED + "\x1b[2J\u2028" + "x" * 5000).encode()
    with webhook_server(WebhookReceiver(fail_first=1, fail_body=body)) as receiver:
        manager = make_manager()
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        manager.config.create_rule(hot_rule(["hook"]))
        manager.ingest(temps(time.time(), 90))
        receiver.wait_for(1)
        wait_until(manager.dispatcher.idle)
    (line,) = [r.getMessage() for r in caplog.records if "to hook failed" in r.getMessage()]
    assert "HTTP 503: busy\\r\\n2026-12-01 03:00:00,000 - gpu_sentinel.auth - CRITICAL" in line
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and len(line) < 400


def test_excerpt_escapes_every_line_breaking_or_control_character() -> None:
    text = "a\nb\rc\x1b[31md\u2028e\u0085f\tg\u200bh"
    assert excerpt(text, 100) == "a\\nb\\rc\\x1b[31md\\u2028e\\x85f\\tg\\u200bh"
    assert excerpt("x" * 10, 4) == "xxxx..."
    assert all(char.isprintable() for char in excerpt(text, 100))


def test_a_recovered_receiver_is_drained_at_the_next_notification(make_manager: ManagerFactory) -> None:
    # A first retry a minute away: without a probe the resolved notification would wait behind it.
    with webhook_server(WebhookReceiver(fail_first=10**9)) as receiver:
        manager = make_manager(alert_retry_initial_s=60, alert_retry_max_s=600)
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        manager.config.create_rule(hot_rule(["hook"]))
        now = time.time()
        manager.ingest(temps(now, 90))
        wait_until(lambda: receiver.refused == 1)
        receiver.fail_first = 1
        manager.ingest(temps(now + 1, 60))
        received = receiver.wait_for(2)
        wait_until(manager.dispatcher.idle)
    assert [r.body["status"] for r in received] == ["firing", "resolved"] and receiver.refused == 1
    assert outbox_statuses(manager) == [("firing", "delivered", 2), ("resolved", "delivered", 1)]


def test_a_notification_queued_while_a_failing_attempt_is_on_the_wire_still_probes_the_receiver(
    make_manager: ManagerFactory,
) -> None:
    with webhook_server(WebhookReceiver(fail_first=1, delay_s=0.5)) as receiver:
        manager = make_manager(alert_retry_initial_s=60, alert_retry_max_s=600)
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        manager.config.create_rule(hot_rule(["hook"]))
        now = time.time()
        manager.ingest(temps(now, 90))
        wait_until(lambda: receiver.arrived == 1)  # the first attempt waits for its (failing) answer
        manager.ingest(temps(now + 1, 60))
        received = receiver.wait_for(2)
    assert [r.body["status"] for r in received] == ["firing", "resolved"] and receiver.refused == 1


def test_a_failing_channel_retries_only_its_oldest_notification(make_manager: ManagerFactory) -> None:
    with webhook_server(WebhookReceiver(fail_first=4)) as receiver:
        manager = make_manager()
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=receiver.url))
        manager.config.create_rule(hot_rule(["hook"]))
        manager.ingest(temps(time.time(), 90, 91, 92))
        received = receiver.wait_for(3)
        wait_until(manager.dispatcher.idle)
    assert [r.body["instance"] for r in received] == ["gpu0", "gpu1", "gpu2"]
    _, items = manager.history(HistoryFilter())
    attempts = {item["gpu_id"]: item["deliveries"][0]["attempts"] for item in items}
    assert attempts == {0: 5, 1: 1, 2: 1}
