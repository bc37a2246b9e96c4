"""Shared fixtures. Tests that need a real component (gcc, PostgreSQL, promtool, Chromium) call
``require_component``: they skip on a developer machine without it and fail under CI=true."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from gpu_sentinel.config import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every browser test of the run: Playwright's sync API keeps one event loop
    on the main thread while it is open, so a second one (or ``asyncio.run`` there) would be refused."""
    from tests.e2e.conftest import launch_chromium, require_browser

    require_browser()
    yield from launch_chromium()
