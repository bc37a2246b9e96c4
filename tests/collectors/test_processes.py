from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
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


def test_a_process_is_described_with_its_start_time_and_state() -> None:
    """The start time tells the process apart from a later one given its PID; the state shows a pause."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        inspector = ProcessInspector()
        details = inspector.describe(child.pid)
        assert details is not None
        with open(f"/proc/{child.pid}/stat", "rb") as stat:
            start_ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
        started = psutil.boot_time() + start_ticks / os.sysconf("SC_CLK_TCK")
        assert details.started_at == pytest.approx(started, abs=0.01)
        # While it is still starting it may be running or waiting on the disk; then it sleeps.
        deadline = time.monotonic() + 10
        while (details := inspector.describe(child.pid)) is not None and details.status != "sleeping":
            assert details.status in ("running", "disk-sleep"), details.status
            assert time.monotonic() < deadline, "the sleeping state never showed"
            time.sleep(0.02)
        assert details is not None and details.status == "sleeping"
        child.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while (details := inspector.describe(child.pid)) is not None and details.status != "stopped":
            assert time.monotonic() < deadline, "the stopped state never showed"
            time.sleep(0.02)
        assert details is not None and details.status == "stopped"
    finally:
        child.kill()
        child.wait()


def test_a_zombie_is_dropped() -> None:
    """A child that exited but was not yet reaped holds no GPU context any more."""
    child = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.02)
    try:
        assert ProcessInspector().describe(child.pid) is None
    finally:
        child.wait()
