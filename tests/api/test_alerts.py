"""The alerts API: rules, channels and silences CRUD with validation errors, admin-only changes,
active alerts, acknowledgement and history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.config import Settings
from tests.alerts.receivers import WebhookReceiver, webhook_server
from tests.api.conftest import ADMIN, VIEWER, bearer, make_client, secured_service

RULES = "/api/v1/alerts/rules"
CHANNELS = "/api/v1/alerts/channels"
RULE: dict[str, Any] = {
    "id": "hot",
    "name": "GPU hot",
    "metric": "gpu.temperature_c",
    "condition": ">=",
    "threshold": 80,
    "clear_threshold": 75,
    "for": "30s",
    "severity": "critical",
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, anonymous_read=False)
    with make_client(settings, secured_service(settings)) as client:
        yield client, bearer(client, ADMIN), bearer(client, VIEWER)


def test_builtin_defaults_are_listed(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, _, viewer = api
    rules = {rule["id"]: rule for rule in client.get(RULES, headers=viewer).json()}
    assert rules["gpu-temperature-critical"]["threshold"] == 85
    assert rules["gpu-temperature-critical"]["for_s"] == 60
    assert rules["gpu-memory-full"]["for_s"] == 300
    assert rules["gpu-allocated-idle"]["for_s"] == 900
    assert {"gpu-xid", "gpu-ecc-uncorrectable", "gpu-lost", "sampler-stalled"} <= set(rules)
    assert all(rule["builtin"] for rule in rules.values())


def test_rule_crud(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, admin, viewer = api
    created = client.post(RULES, json=RULE, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["for_s"] == 30 and created.json()["scope"] == "all_gpus"
    assert client.post(RULES, json=RULE, headers=admin).status_code == 409
    assert client.get(f"{RULES}/hot", headers=viewer).json()["clear_threshold"] == 75

    patched = client.patch(f"{RULES}/hot", json={"enabled": False, "gpu_id": 1}, headers=admin)
    assert patched.status_code == 200 and patched.json()["scope"] == "gpu"
    assert patched.json()["enabled"] is False

    replaced = client.put(f"{RULES}/hot", json={**RULE, "id": "ignored", "threshold": 90}, headers=admin)
    assert replaced.json()["id"] == "hot" and replaced.json()["threshold"] == 90

    assert client.delete(f"{RULES}/hot", headers=admin).status_code == 204
    missing = client.get(f"{RULES}/hot", headers=viewer)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_builtin_rule_can_be_edited_and_disabled(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    response = client.patch(
        f"{RULES}/gpu-temperature-critical", json={"threshold": 90, "enabled": False}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["builtin"] is True and response.json()["enabled"] is False


def test_the_catalogue_publishes_the_levels_the_built_in_rules_fire_at(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, viewer = api

    def levels() -> dict[str, Any]:
        entries = client.get("/api/v1/metrics", headers=viewer).json()["metrics"]
        return {entry["key"]: entry["thresholds"] for entry in entries}

    rules = {rule["id"]: rule for rule in client.get(RULES, headers=viewer).json()}
    level_rules = (
        ("gpu-temperature-critical", "gpu.temperature_c"),
        ("gpu-memory-full", "gpu.memory_used_pct"),
    )
    for rule_id, key in level_rules:
        rule = rules[rule_id]
        assert (rule["metric"], rule["severity"]) == (key, "critical")
        assert levels()[key] == {"warning": rule["clear_threshold"], "critical": rule["threshold"]}
    assert levels()["gpu.temperature_c"] == {"warning": 80, "critical": 85}
    assert levels()["gpu.utilization_pct"] == {"warning": 70, "critical": 85}
    assert levels()["gpu.memory_used_bytes"] is None

    # An admin's edit of the built-in rule moves the dashboard's levels with it.
    edited = {"threshold": 92, "clear_threshold": 87}
    response = client.patch(f"{RULES}/gpu-temperature-critical", json=edited, headers=admin)
    assert response.status_code == 200, response.text
    assert levels()["gpu.temperature_c"] == {"warning": 87, "critical": 92}
    # One that no longer watches temperature leaves the registry's levels in place.
    client.patch(f"{RULES}/gpu-temperature-critical", json={"metric": "gpu.power_w"}, headers=admin)
    assert levels()["gpu.temperature_c"] == {"warning": 80, "critical": 85}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": "gpu.temp"}, "unknown metric 'gpu.temp'"),
        ({"condition": "=>"}, "condition"),
        ({"clear_threshold": 95}, "clear_threshold (95) must be at or below threshold (80)"),
        ({"for": "later"}, "is not a duration"),
        ({"severity": "fatal"}, "severity"),
        ({"channels": ["nowhere"]}, "unknown channel(s) nowhere"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_rule_validation_errors(
    api: tuple[TestClient, dict[str, str], dict[str, str]], change: dict[str, Any], message: str
) -> None:
    client, admin, _ = api
    response = client.post(RULES, json={**RULE, **change}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert message in response.json()["detail"]


def test_patch_that_breaks_the_rule_is_refused(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    client.post(RULES, json=RULE, headers=admin)
    response = client.patch(f"{RULES}/hot", json={"threshold": 70}, headers=admin)
    assert response.status_code == 422 and "clear_threshold" in response.json()["detail"]


def test_changes_need_an_admin(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, _, viewer = api
    assert client.post(RULES, json=RULE).status_code == 401
    assert client.post(RULES, json=RULE, headers=viewer).status_code == 403
    assert client.delete(f"{RULES}/gpu-lost", headers=viewer).status_code == 403
    assert client.get(RULES).status_code == 401


def test_channel_secrets_are_write_only(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, admin, _ = api
    channel = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/h", "secret": "top-secret"}
    created = client.post(CHANNELS, json=channel, headers=admin)
    assert created.status_code == 201
    assert "top-secret" not in created.text and created.json()["secret_set"] is True
    listed = client.get(CHANNELS, headers=admin)
    assert "top-secret" not in listed.text and listed.json()[0]["url"] == "http://127.0.0.1:9/h"
    replaced = client.put(
        f"{CHANNELS}/hook", json={**channel, "secret": None, "url": "http://127.0.0.1:9/x"}, headers=admin
    )
    assert replaced.json()["secret_set"] is False
    kept = client.put(
        f"{CHANNELS}/hook",
        json={"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/y"},
        headers=admin,
    )
    assert kept.json()["secret_set"] is False

    client.post(RULES, json={**RULE, "channels": ["hook"]}, headers=admin)
    in_use = client.delete(f"{CHANNELS}/hook", headers=admin)
    assert in_use.status_code == 409 and "hot" in in_use.json()["detail"]
    bad = client.post(CHANNELS, json={"name": "mail", "type": "email"}, headers=admin)
    assert bad.status_code == 422 and "needs smtp_host, sender, recipients" in bad.json()["detail"]


def test_channels_are_readable_by_admins_only(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, viewer = api
    hook = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/h"}
    assert client.post(CHANNELS, json=hook, headers=admin).status_code == 201
    for path in (CHANNELS, f"{CHANNELS}/hook"):
        assert client.get(path).status_code == 401
        refused = client.get(path, headers=viewer)
        assert refused.status_code == 403 and "127.0.0.1:9" not in refused.text
        assert client.get(path, headers=admin).status_code == 200


SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
TOKEN_URL = "https://hooks.example/in?token=tok-3141592653"
CREDENTIALS = ("XXXXsecretXXXX", "tok-3141592653", "Bearer abc.def", "sign-key", "smtp-pass")


def test_channel_credentials_are_shown_masked_and_kept_on_replace(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    channels: list[dict[str, Any]] = [
        {"name": "slack", "type": "slack", "url": SLACK_URL},
        {
            "name": "hook",
            "type": "webhook",
            "url": TOKEN_URL,
            "secret": "sign-key",
            "headers": {"Authorization": "Bearer abc.def"},
        },
        {
            "name": "mail",
            "type": "email",
            "smtp_host": "127.0.0.1",
            "sender": "gpu@example.org",
            "recipients": ["ops@example.org"],
            "username": "alerts",
            "password": "smtp-pass",
        },
    ]
    for channel in channels:
        created = client.post(CHANNELS, json=channel, headers=admin)
        assert created.status_code == 201, created.text
    listed = client.get(CHANNELS, headers=admin)
    assert not [secret for secret in CREDENTIALS if secret in listed.text]
    shown = {channel["name"]: channel for channel in listed.json()}
    assert shown["slack"]["url"] == "https://hooks.slack.com/********" and shown["slack"]["url_set"]
    assert shown["hook"]["url"] == "https://hooks.example/********"
    assert shown["hook"]["headers"] == {"Authorization": "********"} and shown["hook"]["secret_set"]
    assert shown["mail"]["password_set"] is True and shown["mail"]["username"] == "alerts"

    for name, view in shown.items():
        back = client.put(f"{CHANNELS}/{name}", json={**view, "timeout_s": 5}, headers=admin)
        assert back.status_code == 200, back.text
        assert back.json() == {**view, "timeout_s": 5}
    service = client.app.state.service  # type: ignore[attr-defined]
    stored = {channel.name: channel.stored() for channel in service.alerts.config.channels()}
    assert stored["slack"]["url"] == SLACK_URL
    assert stored["hook"]["url"] == TOKEN_URL and stored["hook"]["secret"] == "sign-key"
    assert stored["hook"]["headers"] == {"Authorization": "Bearer abc.def"}
    assert stored["mail"]["password"] == "smtp-pass"

    masked_new = client.put(
        f"{CHANNELS}/hook", json={**shown["hook"], "headers": {"X-New": "********"}}, headers=admin
    )
    assert masked_new.status_code == 422 and "X-New: ********" in masked_new.json()["detail"]


def test_channel_test_reports_an_unreachable_receiver(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    client.post(
        CHANNELS, json={"name": "dead", "type": "webhook", "url": "http://127.0.0.1:9/h"}, headers=admin
    )
    response = client.post(f"{CHANNELS}/dead/test", headers=admin)
    assert response.status_code == 502 and response.json()["error"] == "channel_failed"
    assert response.json()["detail"] == "Channel 'dead' failed: ConnectError"


def test_channel_test_reports_only_the_receivers_status(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    page = b"<html>internal admin console: db_password=hunter2</html>"
    with webhook_server(WebhookReceiver(fail_first=1, fail_body=page)) as local_service:
        channel = {"name": "probe", "type": "webhook", "url": local_service.url}
        assert client.post(CHANNELS, json=channel, headers=admin).status_code == 201
        refused = client.post(f"{CHANNELS}/probe/test", headers=admin)
        accepted = client.post(f"{CHANNELS}/probe/test", headers=admin)
    assert refused.status_code == 502
    assert refused.json()["detail"] == "Channel 'probe' failed: the receiver answered HTTP 503"
    assert accepted.status_code == 200 and accepted.json() == {"channel": "probe", "delivered": True}
    assert local_service.received[0].body["rule"]["id"] == "test"


def test_silences(api: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, admin, viewer = api
    silence = {
        "matchers": [{"label": "gpu", "value": "0"}],
        "ends_at": 4_000_000_000,
        "comment": "maintenance",
    }
    created = client.post("/api/v1/alerts/silences", json=silence, headers=admin)
    assert created.status_code == 201 and created.json()["created_by"] == ADMIN[0]
    listed = client.get("/api/v1/alerts/silences", headers=viewer).json()
    assert [s["comment"] for s in listed] == ["maintenance"]
    past = client.post("/api/v1/alerts/silences", json={**silence, "ends_at": 1}, headers=admin)
    assert past.status_code == 422
    bad = client.post("/api/v1/alerts/silences", json={**silence, "matchers": []}, headers=admin)
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/alerts/silences/{created.json()['id']}", headers=admin).status_code == 204


def test_active_history_and_metrics_when_quiet(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, viewer = api
    assert client.get("/api/v1/alerts", headers=viewer).json() == {"alerts": [], "count": 0}
    history = client.get("/api/v1/alerts/history", params={"limit": 5}, headers=viewer).json()
    assert history == {"items": [], "total": 0, "limit": 5, "offset": 0}
    assert (
        client.get("/api/v1/alerts/history", params={"state": "boiling"}, headers=viewer).status_code == 422
    )
    names = {m["name"] for m in client.get("/api/v1/alerts/metrics", headers=viewer).json()}
    assert {"gpu.temperature_c", "host.cpu_pct", "event.xid", "event.sampler_stalled"} <= names
    assert client.post("/api/v1/alerts/hot:gpu0/ack", headers=admin).status_code == 404
