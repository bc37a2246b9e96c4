"""Folds the sampler's snapshots (4 per second by default) into what history keeps: one row per GPU and
one host row per second holding the mean of that second, and per-minute usage of each GPU process.

The current second is emitted on every drain while it is still filling; the database upserts it, so a
crash loses at most the time since the last drain, and the finished second replaces the partial one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gpu_sentinel.snapshot import GPUProcess, GPUSample, Snapshot
from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.metrics import GPU_METRICS, HOST_METRICS, Metric
from gpu_sentinel.store.schema import PROCESS_OWNER_COLUMNS


@dataclass(slots=True)
class _Mean:
    """Running sums of one entity's metrics within one second; counters keep their latest value."""

    metrics: tuple[Metric, ...]
    sums: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    latest: list[float | int | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sums = [0.0] * len(self.metrics)
        self.counts = [0] * len(self.metrics)
        self.latest = [None] * len(self.metrics)

    def add(self, record: object) -> None:
        for i, metric in enumerate(self.metrics):
            value = metric.read(record)
            if value is not None:
                self.sums[i] += value
                self.counts[i] += 1
                self.latest[i] = value

    def values(self) -> list[float | int | None]:
        out: list[float | int | None] = []
        for metric, total, count, latest in zip(
            self.metrics, self.sums, self.counts, self.latest, strict=True
        ):
            if not count:
                out.append(None)
            elif metric.last:
                out.append(latest)
            else:
                out.append(round(total / count) if metric.integer else total / count)
        return out

    def value(self, column: str) -> float | None:
        for metric, total, count in zip(self.metrics, self.sums, self.counts, strict=True):
            if metric.column == column:
                return total / count if count else None
        return None


@dataclass(slots=True)
class _Second:
    gpus: dict[int, _Mean] = field(default_factory=dict)
    host: _Mean | None = None
    processes: dict[int, GPUSample] = field(default_factory=dict)


@dataclass(slots=True)
class _ProcessUsage:
    """One process on one GPU within one minute; see ``schema.PROCESS_COLUMNS``."""

    user: str | None
    owner: tuple[str | None, ...] = ()
    seconds: int = 0
    busy_s: float = 0.0
    energy_j: float = 0.0
    util_sum: float = 0.0
    util_n: int = 0
    mem_peak: int | None = None
    cpu_sum: float = 0.0
    cpu_n: int = 0
    host_mem_peak: int | None = None
    sm_seconds: float | None = None

    def row(self) -> tuple[object, ...]:
        return (
            self.user,
            self.seconds,
            self.busy_s,
            self.energy_j,
            self.util_sum,
            self.util_n,
            self.mem_peak,
            self.cpu_sum,
            self.cpu_n,
            self.host_mem_peak,
            *self.owner,
            self.sm_seconds,
        )


def _peak(current: int | None, value: int | None) -> int | None:
    if value is None:
        return current
    return value if current is None else max(current, value)


def fair_shares(processes: Sequence[GPUProcess]) -> list[float]:
    """How one second of a shared GPU is split between its processes: by their SM use that second
    (their share of the SM-seconds), so the job that computes pays for the energy and not the one that
    only holds memory; equally when any process's SM use is unknown or none of them used the SMs."""
    sm = [process.sm_util_pct for process in processes]
    known = [value for value in sm if value is not None]
    total = sum(known)
    if len(known) != len(sm) or total <= 0:
        return [1.0 / len(processes)] * len(processes)
    return [value / total for value in known]


class Downsampler:
    """Not thread-safe: owned by the writer thread."""

    def __init__(self) -> None:
        self._second: int | None = None
        self._current = _Second()
        self._done: Batch = Batch()
        self._usage: dict[tuple[int, int, int, str], _ProcessUsage] = {}
        self._touched: set[tuple[int, int, int, str]] = set()
        self._known_gpus: dict[int, Row] = {}

    def add(self, snapshot: Snapshot) -> None:
        second = int(snapshot.timestamp)
        if self._second is not None and second != self._second:
            self._close_second()
        self._second = second
        for gpu in snapshot.gpus:
            if gpu.lost:
                continue
            mean = self._current.gpus.get(gpu.index)
            if mean is None:
                mean = self._current.gpus[gpu.index] = _Mean(GPU_METRICS)
            mean.add(gpu)
            self._current.processes[gpu.index] = gpu
            self._note_gpu(gpu, second)
        if self._current.host is None:
            self._current.host = _Mean(HOST_METRICS)
        self._current.host.add(snapshot.host)

    def drain(self, final: bool = False) -> Batch:
        """Everything finished since the last drain, plus the second still filling (unless ``final``
        closes it for good)."""
        if final and self._second is not None:
            self._close_second()
            self._second = None
        batch, self._done = self._done, Batch()
        if self._second is not None:
            batch.extend(self._rows_of(self._second, self._current))
        batch.process_rows = [key + usage.row() for key, usage in self._usage_rows()]
        batch.gpu_info = list(self._known_gpus.values())
        return batch

    def _note_gpu(self, gpu: GPUSample, second: int) -> None:
        known = self._known_gpus.get(gpu.index)
        first_seen = known[4] if known else second
        info = gpu.info
        memory_total = gpu.memory_total_bytes or info.memory_total_bytes
        self._known_gpus[gpu.index] = (gpu.index, info.uuid, info.name, memory_total, first_seen, second)

    def _rows_of(self, second: int, data: _Second) -> Batch:
        batch = Batch()
        for gpu_id, mean in sorted(data.gpus.items()):
            batch.gpu_rows.append((second, gpu_id, *mean.values()))
        if data.host is not None:
            batch.host_rows.append((second, *data.host.values()))
        return batch

    def _close_second(self) -> None:
        assert self._second is not None
        self._done.extend(self._rows_of(self._second, self._current))
        self._account_processes(self._second, self._current)
        self._current = _Second()

    def _account_processes(self, second: int, data: _Second) -> None:
        """Each process on a GPU is charged its fair share of that second's GPU time and energy (see
        ``fair_shares``), and its SM-seconds."""
        minute = second // 60 * 60
        for gpu_id, gpu in data.processes.items():
            if not gpu.processes:
                continue
            mean = data.gpus[gpu_id]
            util = mean.value("util_gpu")
            power = mean.value("power")
            for process, share in zip(gpu.processes, fair_shares(gpu.processes), strict=True):
                key = (minute, gpu_id, process.pid, process.name)
                usage = self._usage.get(key)
                if usage is None:
                    owner = tuple(getattr(process, column) for column in PROCESS_OWNER_COLUMNS)
                    usage = self._usage[key] = _ProcessUsage(user=process.user, owner=owner)
                usage.seconds += 1
                if util is not None:
                    usage.busy_s += util / 100.0 * share
                    usage.util_sum += util
                    usage.util_n += 1
                if power is not None:
                    usage.energy_j += power * share
                usage.mem_peak = _peak(usage.mem_peak, process.gpu_memory_bytes)
                if process.cpu_percent is not None:
                    usage.cpu_sum += process.cpu_percent
                    usage.cpu_n += 1
                usage.host_mem_peak = _peak(usage.host_mem_peak, process.host_memory_bytes)
                if process.sm_util_pct is not None:
                    usage.sm_seconds = (usage.sm_seconds or 0.0) + process.sm_util_pct / 100.0
                self._touched.add(key)

    def _usage_rows(self) -> list[tuple[tuple[int, int, int, str], _ProcessUsage]]:
        """Minutes touched since the last drain; finished minutes are then forgotten."""
        rows = [(key, self._usage[key]) for key in sorted(self._touched)]
        self._touched.clear()
        current_minute = None if self._second is None else self._second // 60 * 60
        for key in [key for key in self._usage if key[0] != current_minute]:
            del self._usage[key]
        return rows
