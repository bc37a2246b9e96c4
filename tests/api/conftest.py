"""Apps for API tests: simulated GPUs, GPU monitoring disabled, and a host whose driver is missing."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from gpu_sentinel.api.app import create_app
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service


def make_client(settings: Settings, service: Service | None = None) -> TestClient:
    # A loopback name, as a local browser sends it: anonymous-read services refuse foreign Host names.
    return TestClient(
        create_app(settings, service=service),
        base_url="http://localhost",
        headers={"Host": "localhost"},
        raise_server_exceptions=False,
    )


@pytest.fixture
def simulated(tmp_path: Path) -> SimulatedGPUs:
    return SimulatedGPUs(4, seed=11, xid_mean_interval_s=1e12)


@pytest.fixture
def client(tmp_path: Path, simulated: SimulatedGPUs) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, simulate_gpus=4, gpu_poll_interval=0.05, rate_limit=0)
    with make_client(settings, Service(settings, gpu_source=simulated)) as test_client:
        yield test_client


@pytest.fixture
def no_gpu_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, enable_gpu_monitoring=False, rate_limit=0)
    with make_client(settings) as test_client:
        yield test_client


# Argon2 at its cheapest, so that tests which create users and log in stay fast.
FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
ADMIN = ("root-admin", "admin-password-1")
VIEWER = ("viewer", "viewer-password-1")


def secured_service(settings: Settings) -> Service:
    """A service with simulated GPUs and one admin and one viewer."""
    service = Service(settings, gpu_source=SimulatedGPUs(2, seed=5, xid_mean_interval_s=1e12))
    service.auth.users.hasher = FAST_HASHER
    service.auth.users.add(*ADMIN, role="admin")
    service.auth.users.add(*VIEWER, role="viewer")
    return service


def bearer(client: TestClient, user: tuple[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": user[0], "password": user[1]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def secured_settings(tmp_path: Path) -> Settings:
    """Authentication on: no anonymous reads, no rate limit."""
    return Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, anonymous_read=False)


@pytest.fixture
def secured(secured_settings: Settings) -> Iterator[TestClient]:
    with make_client(secured_settings, secured_service(secured_settings)) as test_client:
        yield test_client
