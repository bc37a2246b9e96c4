"""Prometheus exposition of the latest snapshot, for the ``/metrics`` route.

GPU series carry NVIDIA dcgm-exporter's names, units and labels, so its Grafana dashboard (id 12239) and
existing alert rules work unchanged; host and service series follow Prometheus naming with base units.
Every family is built at scrape time from the latest snapshot, so there is no metric state to keep in step
with the sampler, and a scrape never touches NVML or psutil.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, Snapshot, StorageSample

__all__ = [
    "CLOCK_EVENT_REASON_BITS",
    "CONTENT_TYPE",
    "DCGM_LABELS",
    "GPU_METRICS",
    "HOST_METRICS",
    "MetricSpec",
    "SnapshotCollector",
    "render_metrics",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Classic text format: what dcgm-exporter serves and every Prometheus version reads."""

MIB = 1024 * 1024

DCGM_LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION")
"""dcgm-exporter's labels, in its order; dashboard 12239 filters on ``Hostname`` and ``gpu``."""

CLOCK_EVENT_REASON_BITS: Mapping[str, int] = {
    "gpu_idle": 0x1,
    "applications_clocks_setting": 0x2,
    "sw_power_cap": 0x4,
    "hw_slowdown": 0x8,
    "sync_boost": 0x10,
    "sw_thermal_slowdown": 0x20,
    "hw_thermal_slowdown": 0x40,
    "hw_power_brake_slowdown": 0x80,
    "display_clock_setting": 0x100,
}
"""NVML's ``nvmlClocksEventReason*`` bits (identical to DCGM's), by the snapshot's decoded reason names."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MetricSpec(Generic[T]):
    """One exported metric, described once. ``read`` returns ``None`` when the record has no value, and
    then no series is written: a missing reading is never exported as 0."""

    name: str
    help: str
    unit: str
    read: Callable[[T], float | None]
    counter: bool = False


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


def _mib(value: int | None) -> float | None:
    return None if value is None else float(value // MIB)


def _fb_total_bytes(sample: GPUSample) -> int | None:
    if sample.memory_total_bytes is not None:
        return sample.memory_total_bytes
    return sample.info.memory_total_bytes


def _fb_free_mib(sample: GPUSample) -> float | None:
    total = _fb_total_bytes(sample)
    if total is None or sample.memory_used_bytes is None:
        return None
    return _mib(max(0, total - sample.memory_used_bytes))


def _energy_mj(sample: GPUSample) -> float | None:
    return None if sample.energy_j is None else float(round(sample.energy_j * 1000))


def _clock_event_bitmask(sample: GPUSample) -> float | None:
    if sample.clock_event_reasons is None:
        return None
    mask = 0
    for reason in sample.clock_event_reasons:
        mask |= CLOCK_EVENT_REASON_BITS.get(reason, 0)
    return float(mask)


def _last_xid(sample: GPUSample) -> float | None:
    if sample.last_xid is not None:
        return float(sample.last_xid)
    # dcgm-exporter reads 0 until the first XID, and alert rules compare against that.
    return 0.0 if sample.xid_count == 0 else None


# All dcgm-exporter names are gauges here: it types some of them as counters without a `_total` suffix,
# which prometheus_client would append, renaming them away from what the dashboards query.
GPU_METRICS: tuple[MetricSpec[GPUSample], ...] = (
    MetricSpec("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "%", lambda s: s.utilization_gpu_pct),
    MetricSpec(
        "DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", "%", lambda s: s.utilization_memory_pct
    ),
    MetricSpec("DCGM_FI_DEV_ENC_UTIL", "Encoder utilization (in %).", "%", lambda s: s.encoder_pct),
    MetricSpec("DCGM_FI_DEV_DEC_UTIL", "Decoder utilization (in %).", "%", lambda s: s.decoder_pct),
    MetricSpec(
        "DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "MiB", lambda s: _mib(s.memory_used_bytes)
    ),
    MetricSpec("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "MiB", _fb_free_mib),
    MetricSpec(
        "DCGM_FI_DEV_FB_TOTAL",
        "Total framebuffer memory (in MiB).",
        "MiB",
        lambda s: _mib(_fb_total_bytes(s)),
    ),
    MetricSpec("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "C", lambda s: s.temperature_c),
    MetricSpec(
        "DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature (in C).", "C", lambda s: s.memory_temperature_c
    ),
    MetricSpec("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "W", lambda s: s.power_w),
    MetricSpec(
        "DCGM_FI_DEV_POWER_MGMT_LIMIT",
        "Current power limit for the device (in W).",
        "W",
        lambda s: s.power_limit_w,
    ),
    MetricSpec(
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "Total energy consumption since boot (in mJ).",
        "mJ",
        _energy_mj,
    ),
    MetricSpec("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", "MHz", lambda s: s.sm_clock_mhz),
    MetricSpec(
        "DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).", "MHz", lambda s: s.memory_clock_mhz
    ),
    MetricSpec(
        "DCGM_FI_DEV_FAN_SPEED", "Fan speed for the device in percent 0-100.", "%", lambda s: s.fan_speed_pct
    ),
    MetricSpec("DCGM_FI_DEV_PSTATE", "Performance state (P-State) 0-15. 0=highest", "", lambda s: s.pstate),
    MetricSpec(
        "DCGM_FI_DEV_PCIE_TX_THROUGHPUT",
        "Total number of bytes transmitted through PCIe TX (in KB) via NVML.",
        "KB/s",
        lambda s: _scaled(s.pcie_tx_bytes_per_s, 1 / 1024),
    ),
    MetricSpec(
        "DCGM_FI_DEV_PCIE_RX_THROUGHPUT",
        "Total number of bytes received through PCIe RX (in KB) via NVML.",
        "KB/s",
        lambda s: _scaled(s.pcie_rx_bytes_per_s, 1 / 1024),
    ),
    MetricSpec("DCGM_FI_DEV_PCIE_LINK_GEN", "PCIe Current Link Generation.", "", lambda s: s.pcie_generation),
    MetricSpec("DCGM_FI_DEV_PCIE_LINK_WIDTH", "PCIe Current Link Width.", "lanes", lambda s: s.pcie_width),
    MetricSpec(
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS",
        "Current clock event reasons (bitmask of DCGM_CLOCKS_EVENT_REASON_*).",
        "bitmask",
        _clock_event_bitmask,
    ),
    MetricSpec("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", "", _last_xid),
    MetricSpec(
        "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL",
        "Total number of single-bit volatile ECC errors.",
        "",
        lambda s: s.ecc_corrected_volatile,
    ),
    MetricSpec(
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
        "Total number of double-bit volatile ECC errors.",
        "",
        lambda s: s.ecc_uncorrected_volatile,
    ),
    MetricSpec(
        "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL",
        "Total number of single-bit persistent ECC errors.",
        "",
        lambda s: s.ecc_corrected_aggregate,
    ),
    MetricSpec(
        "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL",
        "Total number of double-bit persistent ECC errors.",
        "",
        lambda s: s.ecc_uncorrected_aggregate,
    ),
    MetricSpec(
        "DCGM_FI_DEV_RETIRED_SBE",
        "Total number of retired pages due to single-bit errors.",
        "",
        lambda s: s.retired_pages_single_bit,
    ),
    MetricSpec(
        "DCGM_FI_DEV_RETIRED_DBE",
        "Total number of retired pages due to double-bit errors.",
        "",
        lambda s: s.retired_pages_double_bit,
    ),
    MetricSpec(
        "DCGM_FI_DEV_RETIRED_PENDING",
        "Total number of pages pending retirement.",
        "",
        lambda s: _flag(s.retired_pages_pending),
    ),
    MetricSpec(
        "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
        "Number of remapped rows for correctable errors",
        "",
        lambda s: s.remapped_rows_correctable,
    ),
    MetricSpec(
        "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
        "Number of remapped rows for uncorrectable errors",
        "",
        lambda s: s.remapped_rows_uncorrectable,
    ),
    MetricSpec(
        "DCGM_FI_DEV_ROW_REMAP_FAILURE",
        "Whether remapping of rows has failed",
        "",
        lambda s: _flag(s.remapped_rows_failure),
    ),
    MetricSpec(
        "DCGM_FI_DEV_ROW_REMAP_PENDING",
        "Whether remapping of rows is pending",
        "",
        lambda s: _flag(s.remapped_rows_pending),
    ),
    MetricSpec(
        "DCGM_FI_DEV_MIG_MODE",
        "MIG mode for the device (0 is disabled, 1 is enabled).",
        "",
        lambda s: _flag(s.mig_mode),
    ),
    MetricSpec(
        "gpu_sentinel_gpu_xid_errors_total",
        "XID errors the driver reported for the GPU since the service started.",
        "",
        lambda s: s.xid_count,
        counter=True,
    ),
)
"""Read from GPUs that answered; a lost GPU has none of these series."""

GPU_STATE_METRICS: tuple[MetricSpec[GPUSample], ...] = (
    MetricSpec(
        "gpu_sentinel_gpu_lost",
        "1 when the GPU stopped answering the driver (fallen off the bus), else 0.",
        "",
        lambda s: float(s.lost),
    ),
)

GPU_INFO_LABELS = (*DCGM_LABELS, "driver_version", "cuda_version", "compute_capability")

GPU_INFO_METRICS: tuple[MetricSpec[GPUInfo], ...] = (
    MetricSpec(
        "gpu_sentinel_gpu_info",
        "Static GPU facts as labels; the value is always 1.",
        "",
        lambda info: 1.0,
    ),
)

PROCESS_LABELS = ("gpu", "UUID", "pid", "process_name", "user", "Hostname")

PROCESS_METRICS: tuple[MetricSpec[GPUProcess], ...] = (
    MetricSpec(
        "gpu_sentinel_gpu_process_memory_bytes",
        "GPU memory used by a process holding a context on the GPU.",
        "bytes",
        lambda p: p.gpu_memory_bytes,
    ),
)


def _load(minutes_index: int) -> Callable[[HostSample], float | None]:
    return lambda h: None if h.load_average is None else h.load_average[minutes_index]


HOST_METRICS: tuple[MetricSpec[HostSample], ...] = (
    MetricSpec(
        "gpu_sentinel_host_cpu_utilization_ratio",
        "Share of CPU time spent busy over the last sampling interval, all cores together (0-1).",
        "ratio",
        lambda h: _scaled(h.cpu_pct, 0.01),
    ),
    MetricSpec("gpu_sentinel_host_cpus", "Logical CPUs of the host.", "", lambda h: h.cpu_count),
    MetricSpec(
        "gpu_sentinel_host_cpu_frequency_hertz",
        "Current CPU clock frequency.",
        "hertz",
        lambda h: _scaled(h.cpu_frequency_mhz, 1e6),
    ),
    MetricSpec("gpu_sentinel_host_load1", "1-minute load average.", "", _load(0)),
    MetricSpec("gpu_sentinel_host_load5", "5-minute load average.", "", _load(1)),
    MetricSpec("gpu_sentinel_host_load15", "15-minute load average.", "", _load(2)),
    MetricSpec(
        "gpu_sentinel_host_memory_total_bytes",
        "Physical memory of the host.",
        "bytes",
        lambda h: h.memory_total_bytes,
    ),
    MetricSpec(
        "gpu_sentinel_host_memory_used_bytes",
        "Physical memory in use.",
        "bytes",
        lambda h: h.memory_used_bytes,
    ),
    MetricSpec(
        "gpu_sentinel_host_memory_available_bytes",
        "Memory that programs can get without swapping.",
        "bytes",
        lambda h: h.memory_available_bytes,
    ),
    MetricSpec("gpu_sentinel_host_swap_total_bytes", "Swap space.", "bytes", lambda h: h.swap_total_bytes),
    MetricSpec(
        "gpu_sentinel_host_swap_used_bytes", "Swap space in use.", "bytes", lambda h: h.swap_used_bytes
    ),
    MetricSpec(
        "gpu_sentinel_host_network_sent_bytes_total",
        "Bytes sent on all network interfaces since boot.",
        "bytes",
        lambda h: h.network_sent_bytes_total,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_host_network_received_bytes_total",
        "Bytes received on all network interfaces since boot.",
        "bytes",
        lambda h: h.network_recv_bytes_total,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_host_disk_read_bytes_total",
        "Bytes read from all disks since boot.",
        "bytes",
        lambda h: h.disk_read_bytes_total,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_host_disk_written_bytes_total",
        "Bytes written to all disks since boot.",
        "bytes",
        lambda h: h.disk_write_bytes_total,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_host_boot_time_seconds", "Unix time the host booted.", "seconds", lambda h: h.boot_time
    ),
)

CORE_METRICS: tuple[MetricSpec[float], ...] = (
    MetricSpec(
        "gpu_sentinel_host_cpu_core_utilization_ratio",
        "Share of one logical CPU's time spent busy over the last sampling interval (0-1).",
        "ratio",
        lambda pct: pct / 100,
    ),
)

FILESYSTEM_LABELS = ("Hostname", "mountpoint", "device", "fstype")

FILESYSTEM_METRICS: tuple[MetricSpec[StorageSample], ...] = (
    MetricSpec(
        "gpu_sentinel_host_filesystem_size_bytes",
        "Size of a mounted filesystem.",
        "bytes",
        lambda f: f.total_bytes,
    ),
    MetricSpec(
        "gpu_sentinel_host_filesystem_used_bytes",
        "Space in use on a mounted filesystem.",
        "bytes",
        lambda f: f.used_bytes,
    ),
)

SAMPLER_METRICS: tuple[MetricSpec[Snapshot], ...] = (
    MetricSpec(
        "gpu_sentinel_sampler_last_sample_timestamp_seconds",
        "Unix time of the latest sample; a stale value means the sampler has stalled.",
        "seconds",
        lambda snap: snap.timestamp,
    ),
    MetricSpec(
        "gpu_sentinel_sampler_samples_total",
        "Samples taken since the service started.",
        "",
        lambda snap: snap.seq,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_gpu_available",
        "1 while GPUs can be read; 0 when GPU monitoring is disabled or the driver is unavailable.",
        "",
        lambda snap: float(snap.gpu_available),
    ),
)

COLLECTION_METRICS: tuple[MetricSpec[float], ...] = (
    MetricSpec(
        "gpu_sentinel_collection_duration_seconds",
        "Time the latest sample spent reading each source.",
        "seconds",
        lambda seconds: seconds,
    ),
)

CALL_METRICS: tuple[MetricSpec[CallStats], ...] = (
    MetricSpec(
        "gpu_sentinel_nvml_calls_total", "NVML function calls made.", "", lambda c: c.calls, counter=True
    ),
    MetricSpec(
        "gpu_sentinel_nvml_call_errors_total",
        "NVML function calls that returned an error, including 'not supported'.",
        "",
        lambda c: c.errors,
        counter=True,
    ),
    MetricSpec(
        "gpu_sentinel_nvml_call_seconds_total",
        "Time spent inside NVML functions.",
        "seconds",
        lambda c: c.seconds,
        counter=True,
    ),
)

Row = tuple[Sequence[str], T]


def _emit(specs: Iterable[MetricSpec[T]], labels: Sequence[str], rows: Sequence[Row[T]]) -> Iterator[Metric]:
    """One family per spec holding a series for every row that has a value; empty families are left out."""
    for spec in specs:
        family: GaugeMetricFamily | CounterMetricFamily
        if spec.counter:
            family = CounterMetricFamily(spec.name, spec.help, labels=labels)
        else:
            family = GaugeMetricFamily(spec.name, spec.help, labels=labels)
        for label_values, record in rows:
            value = spec.read(record)
            if value is not None:
                family.add_metric(label_values, value)
        if family.samples:
            yield family


def _dcgm_label_values(info: GPUInfo, hostname: str) -> tuple[str, ...]:
    return (
        str(info.index),
        info.uuid or "",
        info.pci_bus_id or "",
        f"nvidia{info.index}",
        info.name,
        hostname,
        info.driver_version or "",
    )


def _info_label_values(info: GPUInfo) -> tuple[str, ...]:
    return (info.driver_version or "", info.cuda_version or "", info.compute_capability or "")


def _one_per_pid(processes: Iterable[GPUProcess]) -> Iterable[GPUProcess]:
    """A process with both a compute and a graphics context is listed twice; two series with the same
    labels would make Prometheus reject the whole scrape."""
    by_pid: dict[int, GPUProcess] = {}
    for process in processes:
        kept = by_pid.get(process.pid)
        if kept is None or (kept.gpu_memory_bytes or 0) < (process.gpu_memory_bytes or 0):
            by_pid[process.pid] = process
    return by_pid.values()


class SnapshotCollector:
    """A prometheus_client collector over the sampler's latest snapshot and NVML call statistics.

    Both sources are callables so tests hand in fixed records; ``call_stats`` should return a copy (or a
    mapping the sampler thread does not resize while it is read).
    """

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        call_stats: Callable[[], Mapping[str, CallStats]],
        hostname: str,
    ) -> None:
        self._latest = latest
        self._call_stats = call_stats
        self._hostname = hostname

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        if snapshot is not None:
            yield from self._gpu_families(snapshot.gpus)
            yield from self._host_families(snapshot.host)
            yield from self._sampler_families(snapshot)
        calls = sorted(self._call_stats().items())
        yield from _emit(CALL_METRICS, ("Hostname", "function"), [((self._hostname, f), c) for f, c in calls])

    def _gpu_families(self, gpus: Sequence[GPUSample]) -> Iterator[Metric]:
        host = self._hostname
        every = [(_dcgm_label_values(s.info, host), s) for s in gpus]
        answering = [(labels, s) for labels, s in every if not s.lost]
        yield from _emit(GPU_METRICS, DCGM_LABELS, answering)
        yield from _emit(GPU_STATE_METRICS, DCGM_LABELS, every)
        info = [((*labels, *_info_label_values(s.info)), s.info) for labels, s in every]
        yield from _emit(GPU_INFO_METRICS, GPU_INFO_LABELS, info)
        processes = [
            ((str(s.info.index), s.info.uuid or "", str(p.pid), p.name, p.user or "", host), p)
            for _, s in answering
            for p in _one_per_pid(s.processes)
        ]
        yield from _emit(PROCESS_METRICS, PROCESS_LABELS, processes)

    def _host_families(self, sample: HostSample) -> Iterator[Metric]:
        host = self._hostname
        yield from _emit(HOST_METRICS, ("Hostname",), [((host,), sample)])
        cores = [((host, str(core)), pct) for core, pct in enumerate(sample.cpu_per_core_pct)]
        yield from _emit(CORE_METRICS, ("Hostname", "core"), cores)
        filesystems = [((host, f.mount_point, f.device, f.fstype), f) for f in sample.storage]
        yield from _emit(FILESYSTEM_METRICS, FILESYSTEM_LABELS, filesystems)

    def _sampler_families(self, snapshot: Snapshot) -> Iterator[Metric]:
        host = self._hostname
        yield from _emit(SAMPLER_METRICS, ("Hostname",), [((host,), snapshot)])
        durations = [((host, "gpu"), snapshot.cost.gpu_seconds), ((host, "host"), snapshot.cost.host_seconds)]
        yield from _emit(COLLECTION_METRICS, ("Hostname", "source"), durations)


def render_metrics(collector: Collector) -> tuple[bytes, str]:
    """The ``/metrics`` body and its content type. A private registry keeps whatever else registered in
    prometheus_client's global registry out of the exposition."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE
