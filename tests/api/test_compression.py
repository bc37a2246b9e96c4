"""Large responses travel gzip-compressed to clients that accept it; small ones and other clients get them
as they are."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient


def test_large_json_is_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    compressed = client.get("/api/v1/metrics", headers={"Accept-Encoding": "gzip"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert int(compressed.headers["content-length"]) < len(compressed.content) / 3  # decoded by httpx
    assert json.loads(compressed.content)["metrics"]

    plain = client.get("/api/v1/metrics", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == compressed.json()


def test_cached_snapshot_responses_suit_each_client(client: TestClient) -> None:
    """The response cache replays the same snapshot to every client, compressed only for those asking."""
    first = client.get("/api/v1/system/gpus", headers={"Accept-Encoding": "gzip"})
    second = client.get("/api/v1/system/gpus", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/api/v1/system/gpus", headers={"Accept-Encoding": "identity"})
    for response in (first, second):
        assert response.headers["content-encoding"] == "gzip"
        assert len(response.json()["gpus"]) == 4
    assert "content-encoding" not in plain.headers
    assert plain.json()["gpus"] == second.json()["gpus"]


def test_small_responses_are_sent_as_they_are(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert len(response.content) < 1024
    assert "content-encoding" not in response.headers
    assert response.json()["status"] in ("ok", "starting", "stale")
