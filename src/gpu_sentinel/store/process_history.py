"""One process over time, from the per-minute (per-hour past that tier's retention) process usage: its
peak GPU memory, mean SM share, share of the GPU's time and host figures, bucket by bucket.

A PID may have run on several GPUs, or been reused by another executable; each GPU and name is its own
series, so two processes are never drawn as one line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gpu_sentinel.store.batch import Row

BYTES_PER_MIB = 1024**2


@dataclass(slots=True)
class ProcessSeries:
    """Columnar, as charts take it; a bucket where a figure is unknown holds None."""

    gpu_id: int
    name: str
    user: str | None
    timestamps: list[int] = field(default_factory=list)
    seconds: list[int] = field(default_factory=list)
    gpu_memory_mb: list[float | None] = field(default_factory=list)
    sm_percent: list[float | None] = field(default_factory=list)
    gpu_share_percent: list[float | None] = field(default_factory=list)
    cpu_percent: list[float | None] = field(default_factory=list)
    host_memory_mb: list[float | None] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProcessHistory:
    pid: int
    start: int
    end: int
    resolution_s: int
    series: list[ProcessSeries]


def select_sql(table: str, gpu_ids: Sequence[int] | None) -> str:
    """Parameters: node, pid, start, end, then the GPUs if any."""
    gpus = f" AND gpu_id IN ({', '.join('?' for _ in gpu_ids)})" if gpu_ids else ""
    return (
        "SELECT gpu_id, name, ts, user_name, seconds, busy_s, mem_peak, cpu_sum, cpu_n, host_mem_peak, "
        f"sm_seconds FROM {table} WHERE node = ? AND pid = ? AND ts >= ? AND ts < ?{gpus} "
        "ORDER BY gpu_id, name, ts"
    )


def _mib(value: object) -> float | None:
    return None if value is None else round(float(value) / BYTES_PER_MIB, 1)  # type: ignore[arg-type]


def _percent(part: object, whole: float) -> float | None:
    return None if part is None or not whole else round(float(part) / whole * 100, 1)  # type: ignore[arg-type]


def series_from(rows: Sequence[Row]) -> list[ProcessSeries]:
    """Rows of ``select_sql``, one series per GPU and name."""
    by_key: dict[tuple[int, str], ProcessSeries] = {}
    for gpu_id, name, ts, user, seconds, busy_s, mem_peak, cpu_sum, cpu_n, host_mem_peak, sm_seconds in rows:
        key = (int(gpu_id), str(name))
        series = by_key.get(key)
        if series is None:
            series = by_key[key] = ProcessSeries(gpu_id=key[0], name=key[1], user=user)
        series.user = series.user or user
        covered = float(seconds or 0)
        series.timestamps.append(int(ts))
        series.seconds.append(int(seconds or 0))
        series.gpu_memory_mb.append(_mib(mem_peak))
        series.sm_percent.append(_percent(sm_seconds, covered))
        series.gpu_share_percent.append(_percent(busy_s, covered))
        series.cpu_percent.append(round(float(cpu_sum) / float(cpu_n), 1) if cpu_n else None)
        series.host_memory_mb.append(_mib(host_mem_peak))
    return list(by_key.values())
