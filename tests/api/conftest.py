"""Apps for API tests: simulated GPUs, GPU monitoring disabled, and a host whose driver is missing."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from gpu_sentinel.api.app import create_app
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service


def make_client(settings: Settings, service: Service | None = None) -> TestClient:
    return TestClient(create_app(settings, service=service), raise_server_exceptions=False)


@pytest.fixture
def simulated(tmp_path: Path) -> SimulatedGPUs:
    return SimulatedGPUs(4, seed=11, xid_mean_interval_s=1e12)


@pytest.fixture
def client(tmp_path: Path, simulated: SimulatedGPUs) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, simulate_gpus=4, gpu_poll_interval=0.05)
    with make_client(settings, Service(settings, gpu_source=simulated)) as test_client:
        yield test_client


@pytest.fixture
def no_gpu_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, enable_gpu_monitoring=False)
    with make_client(settings) as test_client:
        yield test_client
