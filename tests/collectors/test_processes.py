from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gpu_sentinel.collectors.processes import ProcessInspector, sanitize_process_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/usr/bin/python3 train.py --token=secret", "python3"),
        ("/home/alice/venvs/x/bin/torchrun", "torchrun"),
        ("python", "python"),
        ("", "unknown"),
        ("a" * 200, "a" * 64),
    ],
)
def test_names_keep_only_the_executable(raw: str, expected: str) -> None:
    assert sanitize_process_name(raw) == expected


def test_a_live_process_is_described() -> None:
    details = ProcessInspector().describe(os.getpid())
    assert details is not None
    assert details.host_memory_bytes and details.host_memory_bytes > 0
    assert details.user


def test_a_process_that_exited_is_dropped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    inspector = ProcessInspector()
    assert inspector.describe(child.pid) is None


def test_cpu_percent_is_measured_between_samples() -> None:
    inspector = ProcessInspector()
    inspector.describe(os.getpid())
    sum(i * i for i in range(300_000))
    details = inspector.describe(os.getpid())
    assert details is not None and details.cpu_percent is not None and details.cpu_percent > 0
