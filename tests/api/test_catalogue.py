"""The metric catalogue and the readings it declares, as API clients, the stream, Prometheus and the
alert engine see them, over a GPU source that returns known samples (GPU 1 unresponsive)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from gpu_sentinel.snapshot import GPUInfo, GPUSample
from tests.api.conftest import make_client

GIB = 1024**3
SINCE = 1_700_000_000.0


class FixedGPUs:
    """Two known GPUs: 0 answers with every reading, 1 has missed its read deadline."""

    available = True
    status = "ok"

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        answering = GPUSample(
            info=GPUInfo(index=0, name="NVIDIA H100", uuid="GPU-0", memory_total_bytes=80 * GIB),
            utilization_gpu_pct=50.0,
            memory_used_bytes=8 * GIB,
            memory_total_bytes=80 * GIB,
            nvlink_tx_bytes_per_s=3.5e9,
            nvlink_rx_bytes_per_s=1.25e9,
            nvlink_crc_flit_errors=3,
            nvlink_replay_errors=8,
            pcie_replay_count=12,
            memory_reserved_bytes=GIB // 2,
            power_violation_s=1.5,
            thermal_violation_s=0.25,
            sync_boost_violation_s=0.0,
            board_limit_violation_s=2.0,
            low_util_violation_s=300.0,
            reliability_violation_s=0.5,
        )
        stuck = GPUSample(info=GPUInfo(index=1, name="NVIDIA H100", uuid="GPU-1"), unresponsive_since=SINCE)
        return answering, stuck

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}

    def close(self) -> None:
        return None


@pytest.fixture
def fixed(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, history_cache_ttl=0)
    with make_client(settings, Service(settings, gpu_source=FixedGPUs())) as client:
        deadline = time.monotonic() + 10
        while client.get("/api/v1/system/gpu-list").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        yield client


def catalogue(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200
    return {entry["key"]: entry for entry in response.json()["metrics"]}


def test_the_catalogue_says_where_each_reading_appears_and_in_what_unit(fixed: TestClient) -> None:
    entries = catalogue(fixed)

    assert entries["gpu.memory_used_bytes"] == {
        "key": "gpu.memory_used_bytes",
        "scope": "gpu",
        "unit": "B",
        "help": "Framebuffer memory in use",
        "label": "Memory used",
        "format": "bytes",
        "api_field": "memory.used_gb",
        "api_unit": "GiB",
        "history_name": "gpu_memory_used_gb",
        "history_unit": "GB",
        "alert_name": "gpu.memory_used_gib",
        "alert_unit": "GiB",
        "prometheus_name": "DCGM_FI_DEV_FB_USED",
        "prometheus_type": "gauge",
        "prometheus_unit": "MiB",
        "thresholds": None,
    }
    replay = entries["gpu.pcie_replay_count"]
    assert (replay["history_name"], replay["alert_name"], replay["api_field"]) == (
        "pcie_replay_count",
        "gpu.pcie_replay_count",
        "pcie.replay_count",
    )
    assert (replay["prometheus_name"], replay["prometheus_type"]) == (
        "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
        "counter",
    )
    thermal = entries["gpu.thermal_violation_s"]
    assert (thermal["prometheus_name"], thermal["prometheus_type"], thermal["prometheus_unit"]) == (
        "DCGM_FI_DEV_THERMAL_VIOLATION",
        "counter",
        "ns",
    )
    assert entries["gpu.unresponsive"]["alert_name"] == "event.gpu_unresponsive"
    assert entries["gpu.unresponsive"]["prometheus_name"] == "gpu_sentinel_gpu_unresponsive"


def test_history_and_alert_catalogues_are_views_of_the_registry(fixed: TestClient) -> None:
    entries = catalogue(fixed).values()

    stored = {e["history_name"]: e for e in entries if e["history_name"]}
    history = fixed.get("/api/v1/history/metrics").json()["metrics"]
    assert {m["name"]: (m["unit"], m["help"]) for m in history} == {
        name: (e["history_unit"], e["help"]) for name, e in stored.items()
    }
    alertable = {e["alert_name"]: e for e in entries if e["alert_name"]}
    alerts = {m["name"]: m for m in fixed.get("/api/v1/alerts/metrics").json()}
    assert set(alerts) == set(alertable) | {"event.xid", "event.ecc_uncorrectable", "event.sampler_stalled"}
    for name, entry in alertable.items():
        assert (alerts[name]["unit"], alerts[name]["help"]) == (entry["alert_unit"], entry["help"])


def _schema_field(schemas: dict[str, Any], model: str, path: str) -> dict[str, Any]:
    node = schemas[model]
    *parents, leaf = path.split(".")
    for part in parents:
        prop = node["properties"][part]
        refs = [prop.get("$ref")] + [option.get("$ref") for option in prop.get("anyOf", [])]
        (ref,) = [r for r in refs if r]
        node = schemas[ref.rsplit("/", 1)[1]]
    field: dict[str, Any] = node["properties"][leaf]
    return field


def test_every_api_field_in_the_catalogue_exists_and_is_documented_from_it(fixed: TestClient) -> None:
    schemas = fixed.get("/openapi.json").json()["components"]["schemas"]
    models = {
        "gpu": "GPUMetrics",
        "host": "SystemMetrics",
        "cpu_core": "SystemMetrics",
        "process": "GPUProcess",
        "filesystem": "StorageInfo",
        "mig": "MIGInstance",
    }
    checked = 0
    for entry in catalogue(fixed).values():
        if entry["api_field"] is None:
            continue
        field = _schema_field(schemas, models[entry["scope"]], entry["api_field"])
        unit = f" ({entry['api_unit']})" if entry["api_unit"] else ""
        assert field["description"] == f"{entry['help']}{unit}.", entry["key"]
        checked += 1
    assert checked > 50


def test_gpu_metrics_carry_the_new_readings_in_api_units(fixed: TestClient) -> None:
    body = fixed.get("/api/v1/system/gpu-metrics", params={"gpu_id": 0}).json()

    assert body["nvlink"] == {
        "tx_mb_per_s": 3500.0,
        "rx_mb_per_s": 1250.0,
        "crc_flit_errors": 3,
        "crc_data_errors": None,  # not reported: null, never 0
        "replay_errors": 8,
        "recovery_errors": None,
    }
    assert body["health"]["vgpu_license_state"] is None
    assert body["pcie"]["replay_count"] == 12
    assert body["memory"]["reserved_gb"] == 0.5
    assert body["violations"] == {
        "power_s": 1.5,
        "thermal_s": 0.25,
        "sync_boost_s": 0.0,
        "board_limit_s": 2.0,
        "low_util_s": 300.0,
        "reliability_s": 0.5,
    }
    assert body["unresponsive"] is False and body["unresponsive_since"] is None


def test_an_unresponsive_gpu_is_reported_everywhere(fixed: TestClient) -> None:
    stuck = fixed.get("/api/v1/system/gpu-metrics", params={"gpu_id": 1}).json()
    assert (stuck["unresponsive"], stuck["unresponsive_since"]) == (True, SINCE)
    assert (stuck["health"]["unresponsive"], stuck["health"]["unresponsive_since"]) == (True, SINCE)
    assert stuck["utilization"]["gpu"] is None and stuck["temperature"] is None

    assert fixed.get("/api/v1/health").json()["gpu"]["unresponsive"] == [1]

    with fixed.websocket_connect("/api/v1/stream?fields=unresponsive,unresponsive_since") as ws:
        frame = ws.receive_json()
    assert frame["gpus"] == [
        {"gpu_id": 0, "unresponsive": False, "unresponsive_since": None},
        {"gpu_id": 1, "unresponsive": True, "unresponsive_since": SINCE},
    ]

    exposition = fixed.get("/metrics").text
    assert 'gpu_sentinel_gpu_unresponsive{gpu="1",UUID="GPU-1",' in exposition
    lines = [line for line in exposition.splitlines() if line.startswith("gpu_sentinel_gpu_unresponsive{")]
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["0.0", "1.0"]


def test_the_built_in_rule_raises_an_alert_for_the_unresponsive_gpu_only(fixed: TestClient) -> None:
    deadline = time.monotonic() + 15
    active: dict[str, str] = {}
    while time.monotonic() < deadline:
        active = {a["id"]: a["state"] for a in fixed.get("/api/v1/alerts").json()["alerts"]}
        if "gpu-unresponsive:gpu1" in active:
            break
        time.sleep(0.05)
    assert active.get("gpu-unresponsive:gpu1") == "firing"
    assert "gpu-unresponsive:gpu0" not in active
