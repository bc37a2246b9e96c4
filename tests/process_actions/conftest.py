"""Real child processes shown as GPU processes: a GPU source that lists whichever PIDs a test puts on
its GPUs, described by the collector's own ``ProcessInspector`` (name, user, start time, state)."""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.collectors.processes import ProcessInspector
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample

GiB = 1024**3
DEADLINE_S = 15.0


class ProcessGPUs:
    """Two GPUs whose process lists the test sets; ``started_at_shift`` fakes a PID the sampler saw
    before it was reused (its recorded start time differs from the live process's)."""

    available = True
    status = "ok"

    def __init__(self) -> None:
        self.pids: Mapping[int, tuple[int, ...]] = {0: (), 1: ()}
        self.started_at_shift: Mapping[int, float] = {}
        self._inspector = ProcessInspector()

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        pids, shifts = self.pids, self.started_at_shift  # replaced whole by the test thread
        return tuple(self._gpu(index, pids.get(index, ()), shifts) for index in (0, 1))

    def _gpu(self, index: int, pids: Sequence[int], shifts: Mapping[int, float]) -> GPUSample:
        info = GPUInfo(index=index, name="Test GPU", uuid=f"GPU-{index}", memory_total_bytes=80 * GiB)
        processes: list[GPUProcess] = []
        for pid in pids:
            details = self._inspector.describe(pid)
            if details is None:
                continue
            process = details.gpu_process(pid, "compute", 2 * GiB, {"sm_util_pct": 40.0})
            if pid in shifts and process.started_at is not None:
                process = dataclasses.replace(process, started_at=process.started_at - shifts[pid])
            processes.append(process)
        busy = {"utilization_gpu_pct": 50.0, "memory_used_bytes": 4 * GiB}
        return GPUSample(info=info, processes=tuple(processes), **busy)  # type: ignore[arg-type]

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}

    def close(self) -> None:
        return None


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start child processes, each reaped the moment it exits as a real parent (a shell, a job
    launcher) would, and all gone when the test ends."""
    children: list[subprocess.Popen[bytes]] = []

    def start(*command: str, **options: object) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(command or ("sleep", "300"), **options)  # type: ignore[call-overload]
        children.append(child)
        threading.Thread(target=child.wait, daemon=True).start()
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.02)


def proc_state(pid: int) -> str | None:
    """The state letter in /proc/<pid>/stat (T: stopped), None once the PID is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0].decode()
    except FileNotFoundError:
        return None


def alive(child: subprocess.Popen[bytes]) -> bool:
    """Running or sleeping: neither stopped nor exited (``poll`` cannot tell while a reaper waits)."""
    return proc_state(child.pid) in ("R", "S")
