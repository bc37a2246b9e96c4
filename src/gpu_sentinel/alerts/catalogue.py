"""Every metric and event a rule can watch, described once: name, scope, unit, help and how to read it
from a snapshot. The rule validator, the API's catalogue endpoint and the notification text all use it.

Events become values too, so one state machine serves both: ``event.xid`` is the code of an XID that
arrived since the previous snapshot, ``event.ecc_uncorrectable`` the increase of the uncorrectable ECC
counter, ``event.gpu_lost`` 1 while a GPU is off the bus, ``event.sampler_stalled`` the age in seconds of
the newest snapshot (read by a watchdog, not from snapshots).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gpu_sentinel.snapshot import GPUSample, HostSample

Scope = Literal["gpu", "host"]
GiB = 1024**3

GPUReader = Callable[[GPUSample], "float | None"]
HostReader = Callable[[HostSample], "float | None"]


@dataclass(frozen=True, slots=True)
class AlertMetric:
    name: str
    scope: Scope
    unit: str
    help: str
    gpu: GPUReader | None = None
    host: HostReader | None = None
    event: bool = False


def _attr_gpu(attribute: str) -> GPUReader:
    def read(sample: GPUSample) -> float | None:
        value = getattr(sample, attribute)
        return None if value is None else float(value)

    return read


def _attr_host(attribute: str) -> HostReader:
    def read(sample: HostSample) -> float | None:
        value = getattr(sample, attribute)
        return None if value is None else float(value)

    return read


def _memory_used_gib(sample: GPUSample) -> float | None:
    used = sample.memory_used_bytes
    return None if used is None else used / GiB


def _power_limit_pct(sample: GPUSample) -> float | None:
    if sample.power_w is None or not sample.power_limit_w:
        return None
    return 100.0 * sample.power_w / sample.power_limit_w


def idle_allocated_gib(sample: GPUSample) -> float | None:
    """GiB held on a GPU that does no work: 0 while it computes, so `> 1 for 15m` finds forgotten jobs."""
    util = sample.utilization_gpu_pct
    used = sample.memory_used_bytes
    if util is None or used is None:
        return None
    if util > 0:
        return 0.0
    held = sum(p.gpu_memory_bytes or 0 for p in sample.processes)
    return (held or used) / GiB if sample.processes else 0.0


def _load_1m(sample: HostSample) -> float | None:
    return sample.load_average[0] if sample.load_average else None


def _storage_used_pct(sample: HostSample) -> float | None:
    return max((s.used_pct for s in sample.storage), default=None)


def _gpu_lost(sample: GPUSample) -> float | None:
    return 1.0 if sample.lost else 0.0


_METRICS: tuple[AlertMetric, ...] = (
    AlertMetric("gpu.temperature_c", "gpu", "°C", "GPU core temperature", _attr_gpu("temperature_c")),
    AlertMetric(
        "gpu.memory_temperature_c",
        "gpu",
        "°C",
        "GPU memory (HBM) temperature",
        _attr_gpu("memory_temperature_c"),
    ),
    AlertMetric("gpu.utilization_pct", "gpu", "%", "GPU (SM) utilization", _attr_gpu("utilization_gpu_pct")),
    AlertMetric(
        "gpu.memory_utilization_pct",
        "gpu",
        "%",
        "Memory controller utilization",
        _attr_gpu("utilization_memory_pct"),
    ),
    AlertMetric("gpu.memory_used_pct", "gpu", "%", "GPU memory in use", _attr_gpu("memory_used_pct")),
    AlertMetric("gpu.memory_used_gib", "gpu", "GiB", "GPU memory in use", _memory_used_gib),
    AlertMetric("gpu.power_w", "gpu", "W", "Board power draw", _attr_gpu("power_w")),
    AlertMetric(
        "gpu.power_limit_pct", "gpu", "%", "Power draw as a share of the power limit", _power_limit_pct
    ),
    AlertMetric("gpu.fan_speed_pct", "gpu", "%", "Fan speed", _attr_gpu("fan_speed_pct")),
    AlertMetric("gpu.sm_clock_mhz", "gpu", "MHz", "SM clock", _attr_gpu("sm_clock_mhz")),
    AlertMetric(
        "gpu.pcie_tx_bytes_per_s", "gpu", "B/s", "PCIe transmit rate", _attr_gpu("pcie_tx_bytes_per_s")
    ),
    AlertMetric(
        "gpu.pcie_rx_bytes_per_s", "gpu", "B/s", "PCIe receive rate", _attr_gpu("pcie_rx_bytes_per_s")
    ),
    AlertMetric(
        "gpu.ecc_corrected_volatile",
        "gpu",
        "errors",
        "Corrected ECC errors since the driver loaded",
        _attr_gpu("ecc_corrected_volatile"),
    ),
    AlertMetric(
        "gpu.remapped_rows_uncorrectable",
        "gpu",
        "rows",
        "Rows remapped after uncorrectable errors",
        _attr_gpu("remapped_rows_uncorrectable"),
    ),
    AlertMetric(
        "gpu.idle_allocated_gib",
        "gpu",
        "GiB",
        "Memory held by processes on a GPU at 0 % utilization (0 while it works)",
        idle_allocated_gib,
    ),
    AlertMetric("host.cpu_pct", "host", "%", "Host CPU utilization", host=_attr_host("cpu_pct")),
    AlertMetric(
        "host.memory_used_pct", "host", "%", "Host memory in use", host=_attr_host("memory_used_pct")
    ),
    AlertMetric("host.swap_used_pct", "host", "%", "Swap in use", host=_attr_host("swap_used_pct")),
    AlertMetric("host.load_1m", "host", "", "One-minute load average", host=_load_1m),
    AlertMetric("host.storage_used_pct", "host", "%", "Fullest mounted filesystem", host=_storage_used_pct),
    AlertMetric(
        "host.network_recv_bytes_per_s",
        "host",
        "B/s",
        "Network receive rate",
        host=_attr_host("network_recv_bytes_per_s"),
    ),
    AlertMetric(
        "host.network_sent_bytes_per_s",
        "host",
        "B/s",
        "Network send rate",
        host=_attr_host("network_sent_bytes_per_s"),
    ),
    AlertMetric(
        "host.disk_read_bytes_per_s",
        "host",
        "B/s",
        "Disk read rate",
        host=_attr_host("disk_read_bytes_per_s"),
    ),
    AlertMetric(
        "host.disk_write_bytes_per_s",
        "host",
        "B/s",
        "Disk write rate",
        host=_attr_host("disk_write_bytes_per_s"),
    ),
    AlertMetric("event.xid", "gpu", "xid", "Code of an XID error reported since the last sample", event=True),
    AlertMetric(
        "event.ecc_uncorrectable",
        "gpu",
        "errors",
        "New uncorrectable ECC errors since the last sample",
        event=True,
    ),
    AlertMetric("event.gpu_lost", "gpu", "", "1 while the GPU has fallen off the bus", _gpu_lost, event=True),
    AlertMetric(
        "event.sampler_stalled",
        "host",
        "s",
        "Age of the newest snapshot, checked by a watchdog between samples",
        event=True,
    ),
)

METRICS: dict[str, AlertMetric] = {metric.name: metric for metric in _METRICS}
STALL_METRIC = "event.sampler_stalled"
