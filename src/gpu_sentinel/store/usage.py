"""Who used what over a range: per GPU (from the rollup tiers) and per user and process (from the
per-minute process usage). Time and energy of a GPU shared by several processes are split equally
between them, second by second. Resolution is one minute (one hour past the minute tier's retention)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.metrics import BYTES_PER_GB
from gpu_sentinel.store.tiers import Tier

J_PER_KWH = 3.6e6


@dataclass(frozen=True, slots=True)
class GPUUsage:
    gpu_id: int
    name: str | None
    hours: float
    gpu_hours: float
    energy_kwh: float
    peak_memory_gb: float | None
    avg_utilization: float | None
    peak_power_watts: float | None


@dataclass(slots=True)
class UserUsage:
    user: str | None
    gpu_ids: list[int] = field(default_factory=list)
    processes: int = 0
    hours: float = 0.0
    gpu_hours: float = 0.0
    energy_kwh: float = 0.0
    peak_memory_gb: float | None = None
    avg_utilization: float | None = None


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    gpu_id: int
    pid: int
    name: str
    user: str | None
    first_seen: int
    last_seen: int
    hours: float
    gpu_hours: float
    energy_kwh: float
    peak_memory_gb: float | None
    avg_utilization: float | None
    avg_cpu_percent: float | None
    peak_host_memory_gb: float | None


@dataclass(frozen=True, slots=True)
class UsageReport:
    start: int
    end: int
    resolution_s: int
    gpus: list[GPUUsage]
    users: list[UserUsage]
    processes: list[ProcessUsage]


def _in_gpus(gpu_ids: Sequence[int]) -> str:
    return f"gpu_id IN ({', '.join('?' for _ in gpu_ids)})"


def gpu_sql(tier: Tier, gpu_ids: Sequence[int]) -> str:
    return (
        "SELECT g.gpu_id, MAX(gpus.name), SUM(g.n), SUM(g.util_gpu_avg * g.n), SUM(g.power_avg * g.n), "
        "MAX(g.mem_used_max), "
        "SUM(g.util_gpu_avg * g.n) / NULLIF(SUM(CASE WHEN g.util_gpu_avg IS NULL THEN 0 ELSE g.n END), 0), "
        f"MAX(g.power_max) FROM {tier.table('gpu')} g LEFT JOIN gpus ON gpus.gpu_id = g.gpu_id "
        f"WHERE g.{_in_gpus(gpu_ids)} AND g.ts >= ? AND g.ts < ? GROUP BY g.gpu_id ORDER BY g.gpu_id"
    )


_PROCESS_SUMS = (
    "SUM(seconds), SUM(busy_s), SUM(energy_j), SUM(util_sum), SUM(util_n), MAX(mem_peak), SUM(cpu_sum), "
    "SUM(cpu_n), MAX(host_mem_peak)"
)


def process_sql(table: str, gpu_ids: Sequence[int]) -> str:
    return (
        f"SELECT gpu_id, pid, name, MAX(user_name), MIN(ts), MAX(ts), {_PROCESS_SUMS} FROM {table} "
        f"WHERE {_in_gpus(gpu_ids)} AND ts >= ? AND ts < ? GROUP BY gpu_id, pid, name "
        "ORDER BY SUM(busy_s) DESC, SUM(seconds) DESC LIMIT ?"
    )


def user_sql(table: str, gpu_ids: Sequence[int]) -> str:
    return (
        f"SELECT user_name, gpu_id, COUNT(DISTINCT pid), {_PROCESS_SUMS} FROM {table} "
        f"WHERE {_in_gpus(gpu_ids)} AND ts >= ? AND ts < ? GROUP BY user_name, gpu_id"
    )


def _gb(value: object) -> float | None:
    return None if value is None else float(value) / BYTES_PER_GB  # type: ignore[arg-type]


def _ratio(total: object, count: object) -> float | None:
    return float(total) / float(count) if count else None  # type: ignore[arg-type]


def gpus_from(rows: Sequence[Row]) -> list[GPUUsage]:
    return [
        GPUUsage(
            gpu_id=int(row[0]),
            name=row[1],
            hours=float(row[2] or 0) / 3600,
            gpu_hours=float(row[3] or 0) / 100 / 3600,
            energy_kwh=float(row[4] or 0) / J_PER_KWH,
            peak_memory_gb=_gb(row[5]),
            avg_utilization=None if row[6] is None else float(row[6]),
            peak_power_watts=None if row[7] is None else float(row[7]),
        )
        for row in rows
    ]


def processes_from(rows: Sequence[Row], frame_s: int) -> list[ProcessUsage]:
    return [
        ProcessUsage(
            gpu_id=int(row[0]),
            pid=int(row[1]),
            name=row[2],
            user=row[3],
            first_seen=int(row[4]),
            last_seen=int(row[5]) + frame_s,
            hours=float(row[6]) / 3600,
            gpu_hours=float(row[7] or 0) / 3600,
            energy_kwh=float(row[8] or 0) / J_PER_KWH,
            avg_utilization=_ratio(row[9], row[10]),
            peak_memory_gb=_gb(row[11]),
            avg_cpu_percent=_ratio(row[12], row[13]),
            peak_host_memory_gb=_gb(row[14]),
        )
        for row in rows
    ]


def users_from(rows: Sequence[Row]) -> list[UserUsage]:
    """Rows come per user and GPU; fold them per user, busiest first."""
    users: dict[str | None, UserUsage] = {}
    util_sums: dict[str | None, tuple[float, float]] = {}
    for row in rows:
        user = users.setdefault(row[0], UserUsage(user=row[0]))
        user.gpu_ids.append(int(row[1]))
        user.processes += int(row[2])
        user.hours += float(row[3]) / 3600
        user.gpu_hours += float(row[4] or 0) / 3600
        user.energy_kwh += float(row[5] or 0) / J_PER_KWH
        total, count = util_sums.get(row[0], (0.0, 0.0))
        util_sums[row[0]] = (total + float(row[6] or 0), count + float(row[7] or 0))
        peak = _gb(row[8])
        if peak is not None:
            user.peak_memory_gb = max(peak, user.peak_memory_gb or 0.0)
    for name, user in users.items():
        user.gpu_ids.sort()
        user.avg_utilization = _ratio(*util_sums[name])
    return sorted(users.values(), key=lambda user: (-user.gpu_hours, -user.hours))
