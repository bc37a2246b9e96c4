"""Fleets in one process: nodes as ``Service`` objects with simulated GPUs, and a hub app, all on a
PostgreSQL schema of their own (skipped locally without PostgreSQL, never under CI=true)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.conftest import require_component
from tests.store.helpers import fresh_schema, pg_available

NodeFactory = Callable[..., Service]


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        yield url


def fleet_settings(data_dir: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "log_file": None,
        "gpu_poll_interval": 0.1,
        "rate_limit": 0,
        "fleet_heartbeat_s": 0.2,
        "fleet_online_within_s": 1.0,
        "fleet_offline_after_s": 3.0,
        "alerts_enabled": False,
    }
    return Settings(**{**base, **values})


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[NodeFactory]:
    """Starts nodes (``Service``) with ``gpus`` simulated GPUs; all are stopped at the end."""
    started: list[Service] = []

    def factory(name: str, gpus: int = 2, **values: Any) -> Service:
        settings = fleet_settings(tmp_path / name, node_name=name, simulate_gpus=gpus, **values)
        service = Service(
            settings, gpu_source=SimulatedGPUs(gpus, seed=len(started), xid_mean_interval_s=1e12)
        )
        service.start()
        started.append(service)
        return service

    yield factory
    for service in started:
        service.stop()


def wait_until(condition: Callable[[], Any], what: str, timeout_s: float = 20) -> Any:
    """Poll ``condition`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
