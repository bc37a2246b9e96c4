"""Shared fixtures. Tests that need a real component (gcc, PostgreSQL, promtool, Chromium) call
``require_component``: they skip on a developer machine without it and fail under CI=true."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from gpu_sentinel.config import Settings


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_component(available: bool, what: str) -> None:
    """Skip locally when ``what`` is missing; under CI a missing component is a failure."""
    if available:
        return
    message = f"{what} is not available"
    if running_in_ci():
        pytest.fail(f"{message}, and CI must run this test", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def settings(tmp_path: object) -> Iterator[Settings]:
    """Settings isolated from the developer's environment and home directory."""
    yield Settings(data_dir=tmp_path, log_file=None, simulate_seed=7)  # type: ignore[arg-type]
