"""A fake libnvidia-ml.so.1 in C, so the real pynvml binding can be tested without a GPU."""

from __future__ import annotations

from .build import (
    DEFAULT_BUILD_DIR,
    LIBRARY_NAME,
    FakeNvmlBuildError,
    FakeNvmlPreloadError,
    build_fake_nvml,
    fake_nvml_env,
    load_fake_nvml_in_process,
)

__all__ = [
    "DEFAULT_BUILD_DIR",
    "LIBRARY_NAME",
    "FakeNvmlBuildError",
    "FakeNvmlPreloadError",
    "build_fake_nvml",
    "fake_nvml_env",
    "load_fake_nvml_in_process",
]
