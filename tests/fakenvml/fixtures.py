"""Pytest fixtures for the fake NVML library; import them into the test modules that use them.

pynvml keeps one library handle per process, so every in-process test shares the session's single build and
the ``fake_nvml`` fixture resets its state around each test instead of loading a fresh copy.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_component
from tests.fakenvml.build import (
    DEFAULT_BUILD_DIR,
    FakeNvmlBuildError,
    FakeNvmlPreloadError,
    build_fake_nvml,
    load_fake_nvml_in_process,
)


@pytest.fixture(scope="session")
def fake_nvml_path() -> Path:
    """The fake libnvidia-ml.so.1, built once; skipped without gcc, except under CI=true where it fails."""
    try:
        return build_fake_nvml(DEFAULT_BUILD_DIR)
    except FakeNvmlBuildError as exc:
        require_component(False, f"the fake NVML library ({exc})")
        raise


@pytest.fixture(scope="session")
def fake_nvml_lib(fake_nvml_path: Path) -> ctypes.CDLL:
    """The fake preloaded into this process, so pynvml.nvmlInit() binds to it."""
    try:
        return load_fake_nvml_in_process(fake_nvml_path)
    except FakeNvmlPreloadError as exc:
        pytest.skip(f"in-process fake NVML unavailable: {exc}")


@pytest.fixture
def fake_nvml(fake_nvml_lib: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> Iterator[ctypes.CDLL]:
    """The preloaded fake, reset, with no FAKENVML_* variables; a test may set some before nvmlInit."""
    for name in [name for name in os.environ if name.startswith("FAKENVML_")]:
        monkeypatch.delenv(name)
    fake_nvml_lib.fakenvml_reset()
    yield fake_nvml_lib
    fake_nvml_lib.fakenvml_reset()
