"""The history API through the app: trends, presets, errors, usage, export, status and the docs."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.api.history_models import TrendsResponse, UsageResponse
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.api.conftest import make_client
from tests.store.helpers import feed, gpu, process

TRENDS = "/api/v1/history/trends"


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[TestClient, Service, int]]:
    """An app over 2 simulated GPUs whose store also holds 10 known minutes ending 5 minutes ago."""
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, history_cache_ttl=0)
    service = Service(settings, gpu_source=SimulatedGPUs(2, seed=3, xid_mean_interval_s=1e12))
    start = (int(time.time()) // 60 - 15) * 60
    with make_client(settings, service) as client:
        feed(
            service.store,
            start,
            600,
            lambda ts: [gpu(0, util=30.0, processes=[process(11, "alice")]), gpu(1, util=90.0)],
            per_second=1,
        )
        yield client, service, start


def test_one_request_returns_every_chart_series(history: tuple[TestClient, Service, int]) -> None:
    client, _, start = history
    response = client.get(TRENDS, params={"start": start, "end": start + 600, "bucket": 60})
    assert response.status_code == 200
    body = TrendsResponse.model_validate(response.json())
    assert body.tier == "1m" and body.bucket_seconds == 60
    assert len(body.series) == 2 * 4 + 2
    util0 = next(s for s in body.series if s.metric == "gpu_utilization" and s.gpu_id == 0)
    assert util0.timestamps[0] == start and util0.avg == [30.0] * 10 and util0.unit == "%"


def test_presets_pick_the_spec_buckets(history: tuple[TestClient, Service, int]) -> None:
    client, _, _ = history
    buckets = {}
    for preset in ("1h", "6h", "24h", "7d", "30d"):
        body = client.get(TRENDS, params={"range": preset, "metric": "gpu_utilization", "gpu_id": 0}).json()
        buckets[preset] = (body["bucket_seconds"], body["tier"], body["range"])
        assert 30.0 in body["series"][0]["avg"]
    assert buckets == {
        "1h": (1, "raw", "1h"),
        "6h": (5, "5s", "6h"),
        "24h": (15, "15s", "24h"),
        "7d": (120, "1m", "7d"),
        "30d": (600, "1m", "30d"),
    }


def test_metrics_and_gpus_can_be_chosen(history: tuple[TestClient, Service, int]) -> None:
    client, _, start = history
    params = {"metric": "temperature,cpu_utilization", "gpu_id": 1, "start": start, "end": start + 60}
    series = client.get(TRENDS, params=params).json()["series"]
    assert [(s["metric"], s["gpu_id"]) for s in series] == [("temperature", 1), ("cpu_utilization", None)]


@pytest.mark.parametrize(
    ("params", "status", "code", "text"),
    [
        ({"start": 2000, "end": 1000}, 422, "invalid_time_range", "must be after"),
        ({"metric": "watts"}, 400, "unknown_metric", "gpu_utilization"),
        ({"gpu_id": 9}, 400, "invalid_gpu_id", "valid GPU IDs are 0, 1"),
        ({"range": "7d", "bucket": 1}, 422, "too_many_points", "limit is 10000"),
        ({"range": "2d"}, 422, "validation_error", "range"),
        ({"bucket": 0}, 422, "validation_error", "bucket"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    history: tuple[TestClient, Service, int], params: dict[str, object], status: int, code: str, text: str
) -> None:
    client, _, _ = history
    response = client.get(TRENDS, params=params)
    assert response.status_code == status
    assert response.json()["error"] == code and text in response.json()["detail"]


def test_usage_answers_who_used_a_gpu(history: tuple[TestClient, Service, int]) -> None:
    client, _, start = history
    response = client.get("/api/v1/history/usage", params={"gpu_id": 0, "start": start, "end": start + 600})
    assert response.status_code == 200
    body = UsageResponse.model_validate(response.json())
    assert [g.gpu_id for g in body.gpus] == [0]
    assert body.gpus[0].gpu_hours == pytest.approx(600 * 0.3 / 3600)
    assert body.users[0].user == "alice" and body.processes[0].pid == 11


def test_export_streams_csv(history: tuple[TestClient, Service, int]) -> None:
    client, _, start = history
    params = {"format": "csv", "metric": "gpu_utilization", "start": start, "end": start + 120}
    response = client.get("/api/v1/history/export", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 * 120 and {row["gpu_id"] for row in rows} == {"0", "1"}
    json_rows = client.get("/api/v1/history/export", params={**params, "format": "json", "bucket": 60}).json()
    assert len(json_rows) == 4 and json_rows[0]["avg"] == 30.0


def test_live_samples_reach_history_and_status_reports_the_store(
    history: tuple[TestClient, Service, int],
) -> None:
    client, service, _ = history
    time.sleep(0.3)
    assert service.store.flush()
    body = client.get(TRENDS, params={"range": "1h", "metric": "gpu_utilization", "gpu_id": 0}).json()
    assert body["series"][0]["timestamps"][-1] >= int(time.time()) - 3
    status = client.get("/api/v1/history/status").json()
    assert status["backend"] == "sqlite" and status["connected"] and status["rows_written"] > 0
    catalog = client.get("/api/v1/history/metrics").json()
    assert catalog["gpus"] == [0, 1] and catalog["ranges"]["24h"] == 15 and catalog["max_points"] == 10000


def test_history_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, history_cache_ttl=0)
    start = (int(time.time()) // 60 - 15) * 60
    first = Service(settings, gpu_source=SimulatedGPUs(1, seed=3))
    with make_client(settings, first):
        feed(first.store, start, 120, lambda ts: [gpu(0, util=42.0)], per_second=1)
    second = Service(settings, gpu_source=SimulatedGPUs(1, seed=3))
    with make_client(settings, second) as client:
        body = client.get(
            TRENDS, params={"start": start, "end": start + 120, "bucket": 60, "gpu_id": 0}
        ).json()
    util = next(s for s in body["series"] if s["metric"] == "gpu_utilization")
    assert util["avg"] == [42.0, 42.0]


def test_history_endpoints_are_documented(history: tuple[TestClient, Service, int]) -> None:
    client, _, _ = history
    schema = client.get("/openapi.json").json()
    trends = schema["paths"][TRENDS]["get"]
    assert trends["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "TrendsResponse"
    )
    assert {"/api/v1/history/usage", "/api/v1/history/export", "/api/v1/history/status"} <= set(
        schema["paths"]
    )
