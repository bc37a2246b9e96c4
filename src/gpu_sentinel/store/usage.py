"""Who used what over a range: per GPU (from the rollup tiers) and per user, container, pod, SLURM job
and process (from the per-minute process usage). Time and energy of a GPU shared by several processes
are split between them second by second by their SM use (``downsample.fair_shares``), equally where
that is unknown. Resolution is one minute (one hour past the minute tier's retention).
Every row says which node it is from; a report may cover one node or several (a fleet's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from gpu_sentinel.store.batch import Row
from gpu_sentinel.store.metrics import BYTES_PER_GB
from gpu_sentinel.store.schema import PROCESS_OWNER_COLUMNS
from gpu_sentinel.store.tiers import Tier

J_PER_KWH = 3.6e6


@dataclass(frozen=True, slots=True)
class GPUUsage:
    node: str
    gpu_id: int
    name: str | None
    hours: float
    gpu_hours: float
    energy_kwh: float
    peak_memory_gb: float | None
    avg_utilization: float | None
    peak_power_watts: float | None


@dataclass(slots=True, kw_only=True)
class GroupTotals:
    """What a group of processes (a user's, a container's, a pod's, a job's) used, summed over GPUs."""

    nodes: list[str] = field(default_factory=list)
    gpu_ids: list[int] = field(default_factory=list)
    processes: int = 0
    hours: float = 0.0
    gpu_hours: float = 0.0
    energy_kwh: float = 0.0
    peak_memory_gb: float | None = None
    avg_utilization: float | None = None
    sm_hours: float | None = None


@dataclass(slots=True, kw_only=True)
class UserUsage(GroupTotals):
    user: str | None


@dataclass(slots=True, kw_only=True)
class OwnerUsage(GroupTotals):
    """One container, pod or SLURM job; ``details`` describe it (runtime, namespace, name, job owner)."""

    id: str
    details: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class Grouping:
    """Usage grouped by one owner column of the process tables, described by a few more."""

    key: str
    details: tuple[str, ...]


CONTAINERS = Grouping("container_id", ("container_runtime", "pod_uid", "pod_namespace", "pod_name"))
PODS = Grouping("pod_uid", ("pod_namespace", "pod_name"))
JOBS = Grouping("slurm_job_id", ("slurm_user",))


@dataclass(frozen=True, slots=True)
class ProcessUsage:
    node: str
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
    container_id: str | None = None
    container_runtime: str | None = None
    pod_uid: str | None = None
    pod_namespace: str | None = None
    pod_name: str | None = None
    slurm_job_id: str | None = None
    slurm_user: str | None = None
    sm_hours: float | None = None


@dataclass(frozen=True, slots=True)
class UsageReport:
    start: int
    end: int
    resolution_s: int
    gpus: list[GPUUsage]
    users: list[UserUsage]
    processes: list[ProcessUsage]
    containers: list[OwnerUsage] = field(default_factory=list)
    pods: list[OwnerUsage] = field(default_factory=list)
    jobs: list[OwnerUsage] = field(default_factory=list)


def _marks(values: Sequence[int]) -> str:
    return ", ".join("?" for _ in values)


def _where(nodes: Sequence[int], gpu_ids: Sequence[int], prefix: str = "") -> str:
    """Parameters: the nodes, the GPUs, then start and end."""
    return (
        f"{prefix}node IN ({_marks(nodes)}) AND {prefix}gpu_id IN ({_marks(gpu_ids)}) "
        f"AND {prefix}ts >= ? AND {prefix}ts < ?"
    )


def gpu_sql(tier: Tier, nodes: Sequence[int], gpu_ids: Sequence[int]) -> str:
    """The GPU's name comes from its newest ``gpus`` row (several if it moved index)."""
    name = (
        "(SELECT gpus.name FROM gpus WHERE gpus.node = g.node AND gpus.gpu_id = g.gpu_id "
        "ORDER BY gpus.last_seen DESC LIMIT 1)"
    )
    return (
        f"SELECT g.node, g.gpu_id, {name}, SUM(g.n), SUM(g.util_gpu_avg * g.n), SUM(g.power_avg * g.n), "
        "MAX(g.mem_used_max), "
        "SUM(g.util_gpu_avg * g.n) / NULLIF(SUM(CASE WHEN g.util_gpu_avg IS NULL THEN 0 ELSE g.n END), 0), "
        f"MAX(g.power_max) FROM {tier.table('gpu')} g "
        f"WHERE {_where(nodes, gpu_ids, 'g.')} GROUP BY g.node, g.gpu_id ORDER BY g.node, g.gpu_id"
    )


_PROCESS_SUMS = (
    "SUM(seconds), SUM(busy_s), SUM(energy_j), SUM(util_sum), SUM(util_n), MAX(mem_peak), SUM(cpu_sum), "
    "SUM(cpu_n), MAX(host_mem_peak), SUM(sm_seconds)"
)


_OWNERS = ", ".join(f"MAX({column})" for column in PROCESS_OWNER_COLUMNS)


def process_sql(table: str, nodes: Sequence[int], gpu_ids: Sequence[int]) -> str:
    return (
        f"SELECT node, gpu_id, pid, name, MAX(user_name), MIN(ts), MAX(ts), {_PROCESS_SUMS}, {_OWNERS} "
        f"FROM {table} "
        f"WHERE {_where(nodes, gpu_ids)} GROUP BY node, gpu_id, pid, name "
        "ORDER BY SUM(busy_s) DESC, SUM(seconds) DESC LIMIT ?"
    )


def user_sql(table: str, nodes: Sequence[int], gpu_ids: Sequence[int]) -> str:
    return (
        f"SELECT user_name, node, gpu_id, COUNT(DISTINCT pid), {_PROCESS_SUMS} FROM {table} "
        f"WHERE {_where(nodes, gpu_ids)} GROUP BY user_name, node, gpu_id"
    )


def group_sql(table: str, nodes: Sequence[int], gpu_ids: Sequence[int], grouping: Grouping) -> str:
    """Per owner, node and GPU, processes whose owner is known; ``owners_from`` folds them."""
    described = "".join(f"MAX({column}), " for column in grouping.details)
    return (
        f"SELECT {grouping.key}, {described}node, gpu_id, COUNT(DISTINCT pid), {_PROCESS_SUMS} FROM {table} "
        f"WHERE {_where(nodes, gpu_ids)} AND {grouping.key} IS NOT NULL "
        f"GROUP BY {grouping.key}, node, gpu_id"
    )


def _gb(value: object) -> float | None:
    return None if value is None else float(value) / BYTES_PER_GB  # type: ignore[arg-type]


def _hours(seconds: object) -> float | None:
    """SM-seconds as hours; None where no process on the range had a per-process SM figure."""
    return None if seconds is None else float(seconds) / 3600  # type: ignore[arg-type]


def _ratio(total: object, count: object) -> float | None:
    return float(total) / float(count) if count else None  # type: ignore[arg-type]


def gpus_from(rows: Sequence[Row], names: Mapping[int, str]) -> list[GPUUsage]:
    """``names``: node key to node name."""
    return [
        GPUUsage(
            node=names[int(row[0])],
            gpu_id=int(row[1]),
            name=row[2],
            hours=float(row[3] or 0) / 3600,
            gpu_hours=float(row[4] or 0) / 100 / 3600,
            energy_kwh=float(row[5] or 0) / J_PER_KWH,
            peak_memory_gb=_gb(row[6]),
            avg_utilization=None if row[7] is None else float(row[7]),
            peak_power_watts=None if row[8] is None else float(row[8]),
        )
        for row in rows
    ]


def processes_from(rows: Sequence[Row], frame_s: int, names: Mapping[int, str]) -> list[ProcessUsage]:
    return [
        ProcessUsage(
            node=names[int(row[0])],
            gpu_id=int(row[1]),
            pid=int(row[2]),
            name=row[3],
            user=row[4],
            first_seen=int(row[5]),
            last_seen=int(row[6]) + frame_s,
            hours=float(row[7]) / 3600,
            gpu_hours=float(row[8] or 0) / 3600,
            energy_kwh=float(row[9] or 0) / J_PER_KWH,
            avg_utilization=_ratio(row[10], row[11]),
            peak_memory_gb=_gb(row[12]),
            avg_cpu_percent=_ratio(row[13], row[14]),
            peak_host_memory_gb=_gb(row[15]),
            sm_hours=_hours(row[16]),
            **dict(zip(PROCESS_OWNER_COLUMNS, row[17:], strict=True)),
        )
        for row in rows
    ]


def users_from(rows: Sequence[Row], names: Mapping[int, str]) -> list[UserUsage]:
    """Rows come per user, node and GPU; fold them per user (across nodes), busiest first."""
    return _fold(rows, 1, names, lambda row: UserUsage(user=row[0]))


def owners_from(rows: Sequence[Row], grouping: Grouping, names: Mapping[int, str]) -> list[OwnerUsage]:
    """Rows of ``group_sql`` folded per owner, busiest first."""
    width = 1 + len(grouping.details)

    def make(row: Row) -> OwnerUsage:
        return OwnerUsage(id=str(row[0]), details=dict(zip(grouping.details, row[1:width], strict=True)))

    owners = _fold(rows, width, names, make)
    by_id = {owner.id: owner for owner in owners}
    for row in rows:  # a detail one GPU's rows lack may be known from another's
        details = by_id[str(row[0])].details
        for column, value in zip(grouping.details, row[1:width], strict=True):
            details[column] = details[column] or value
    return owners


G = TypeVar("G", bound=GroupTotals)


def _fold(rows: Sequence[Row], width: int, names: Mapping[int, str], make: Callable[[Row], G]) -> list[G]:
    """Rows per group, node and GPU (``width`` describing columns, then node, gpu_id, the process count
    and ``_PROCESS_SUMS``) folded per group (keyed by the first column, across nodes), busiest first."""
    groups: dict[object, G] = {}
    util_sums: dict[object, tuple[float, float]] = {}
    for row in rows:
        key = row[0]
        group = groups.get(key)
        if group is None:
            group = groups[key] = make(row)
        node_key, gpu_id, processes, seconds, busy_s, energy_j, util_sum, util_n, mem_peak = row[
            width : width + 9
        ]
        node = names[int(node_key)]
        if node not in group.nodes:
            group.nodes.append(node)
        if int(gpu_id) not in group.gpu_ids:
            group.gpu_ids.append(int(gpu_id))
        group.processes += int(processes)
        group.hours += float(seconds) / 3600
        group.gpu_hours += float(busy_s or 0) / 3600
        group.energy_kwh += float(energy_j or 0) / J_PER_KWH
        total, count = util_sums.get(key, (0.0, 0.0))
        util_sums[key] = (total + float(util_sum or 0), count + float(util_n or 0))
        sm_hours = _hours(row[width + 12])
        if sm_hours is not None:
            group.sm_hours = (group.sm_hours or 0.0) + sm_hours
        peak = _gb(mem_peak)
        if peak is not None:
            group.peak_memory_gb = max(peak, group.peak_memory_gb or 0.0)
    for key, group in groups.items():
        group.gpu_ids.sort()
        group.nodes.sort()
        group.avg_utilization = _ratio(*util_sums[key])
    return sorted(groups.values(), key=lambda group: (-group.gpu_hours, -group.hours))
