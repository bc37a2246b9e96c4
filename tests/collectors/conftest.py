"""Fixtures for the NVML collector's unit tests: the replaced pynvml and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.fake_pynvml import Clock, FakeDriver


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDriver]:
    """Two fake GPUs; any hang a test leaves behind is released afterwards."""
    fake = FakeDriver(count=2).install(monkeypatch)
    yield fake
    fake.release_all()


@pytest.fixture
def clock() -> Clock:
    return Clock()
