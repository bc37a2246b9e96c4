"""``WebSocket /api/v1/stream`` through the real app: frames, subsets, authentication, heartbeats, events."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from gpu_sentinel.config import Settings
from tests.api.conftest import VIEWER, bearer, make_client, secured_service


def test_subscriber_receives_every_snapshot_with_gpus_and_host(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream") as ws:
        frames = [ws.receive_json() for _ in range(3)]
    assert all(frame["type"] == "snapshot" for frame in frames)
    assert [f["seq"] for f in frames] == sorted({f["seq"] for f in frames})
    frame = frames[-1]
    assert len(frame["gpus"]) == 4 and frame["gpu_available"] is True
    assert {"utilization", "memory", "temperature", "power"} <= set(frame["gpus"][0])
    assert frame["system_metrics"]["memory"]["total_gb"] > 0
    assert isinstance(frame["gpu_processes"], list)


def test_subset_of_gpus_and_fields(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?gpus=1,3&fields=temperature,utilization") as ws:
        frame = ws.receive_json()
    assert [gpu["gpu_id"] for gpu in frame["gpus"]] == [1, 3]
    assert set(frame["gpus"][0]) == {"gpu_id", "temperature", "utilization"}
    assert "system_metrics" not in frame and "gpu_processes" not in frame


def test_rate_limits_frames_per_subscriber(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?rate=2&fields=system") as ws:
        first, second = ws.receive_json(), ws.receive_json()
    assert second["timestamp"] - first["timestamp"] >= 0.25
    assert first["gpus"] == [{"gpu_id": g} for g in range(4)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("gpus=a", "gpus"),
        ("fields=bogus", "fields: unknown bogus"),
        ("rate=1000", "rate"),
        ("rate=0", "rate"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    client: TestClient, query: str, message: str
) -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect(f"/api/v1/stream?{query}"),
    ):
        pass
    assert denied.value.status_code == 400
    assert message in denied.value.json()["detail"]


def test_stream_needs_a_token_when_anonymous_reads_are_off(secured: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied, secured.websocket_connect("/api/v1/stream"):
        pass
    assert denied.value.status_code == 401
    assert denied.value.json()["error"] == "not_authenticated"

    with (
        pytest.raises(WebSocketDenialResponse) as forged,
        secured.websocket_connect("/api/v1/stream", subprotocols=["bearer", "forged"]),
    ):
        pass
    assert forged.value.status_code == 401 and forged.value.json()["error"] == "invalid_token"


def test_token_in_subprotocol_and_never_in_the_url(secured: TestClient) -> None:
    token = bearer(secured, VIEWER)["Authorization"].removeprefix("Bearer ")
    with secured.websocket_connect("/api/v1/stream", subprotocols=["bearer", token]) as ws:
        assert ws.accepted_subprotocol == "bearer"
        assert ws.receive_json()["type"] == "snapshot"
    with (
        pytest.raises(WebSocketDenialResponse) as in_url,
        secured.websocket_connect(f"/api/v1/stream?token={token}"),
    ):
        pass
    assert in_url.value.status_code == 401 and in_url.value.json()["error"] == "not_authenticated"


def test_heartbeats_fill_the_silence(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, stream_heartbeat_interval=0.05
    )
    with (
        make_client(settings, secured_service(settings)) as client,
        client.websocket_connect("/api/v1/stream?rate=0.2") as ws,
    ):
        assert ws.receive_json()["type"] == "snapshot"
        heartbeat = ws.receive_json()
    assert heartbeat["type"] == "heartbeat" and heartbeat["timestamp"] > 0


def test_alert_events_travel_on_the_stream(client: TestClient) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    with client.websocket_connect("/api/v1/stream?rate=0.2") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        publisher = threading.Thread(
            target=service.stream.publish_event, args=({"rule": "hot", "state": "firing", "gpu_id": 0},)
        )
        publisher.start()
        publisher.join()
        event = ws.receive_json()
    assert event == {"type": "alert", "rule": "hot", "state": "firing", "gpu_id": 0}
