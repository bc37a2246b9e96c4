"""Snapshots with chosen values, for driving the alert engine without a sampler."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, Snapshot

GiB = 1024**3


def gpu(index: int, **values: Any) -> GPUSample:
    fields: dict[str, Any] = {
        "utilization_gpu_pct": 50.0,
        "memory_used_bytes": 10 * GiB,
        "memory_total_bytes": 80 * GiB,
        "temperature_c": 60.0,
        "power_w": 200.0,
        "power_limit_w": 700.0,
    }
    fields.update(values)
    return GPUSample(info=GPUInfo(index=index, name="Test GPU", uuid=f"GPU-{index}"), **fields)


def process(pid: int, user: str, memory_gib: float = 4.0) -> GPUProcess:
    return GPUProcess(
        pid=pid, name="python", kind="compute", gpu_memory_bytes=int(memory_gib * GiB), user=user
    )


def snapshot(ts: float, gpus: Sequence[GPUSample] = (), cpu: float = 20.0, seq: int = 0) -> Snapshot:
    host = HostSample(hostname="test", cpu_pct=cpu, memory_used_pct=25.0)
    return Snapshot(seq=seq, timestamp=ts, gpu_available=bool(gpus), gpus=tuple(gpus), host=host)


def temps(ts: float, *celsius: float) -> Snapshot:
    return snapshot(ts, [gpu(i, temperature_c=t) for i, t in enumerate(celsius)])
