"""The alerts API: rules, channels and silences CRUD with validation errors, admin-only changes,
active alerts, acknowledgement and history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.config import Settings
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
    client, admin, viewer = api
    channel = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/h", "secret": "top-secret"}
    created = client.post(CHANNELS, json=channel, headers=admin)
    assert created.status_code == 201
    assert "top-secret" not in created.text and created.json()["secret_set"] is True
    listed = client.get(CHANNELS, headers=viewer)
    assert "top-secret" not in listed.text
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


def test_channel_test_reports_an_unreachable_receiver(
    api: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, admin, _ = api
    client.post(
        CHANNELS, json={"name": "dead", "type": "webhook", "url": "http://127.0.0.1:9/h"}, headers=admin
    )
    response = client.post(f"{CHANNELS}/dead/test", headers=admin)
    assert response.status_code == 502 and response.json()["error"] == "channel_failed"


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
