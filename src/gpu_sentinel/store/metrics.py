"""The metrics history keeps: each described once (name, unit, help, where it comes from), so the schema,
the trends API, its docs and the export all follow from this table.

Names follow spec 003's ``MetricDataPoint`` where it fixes one (``gpu_utilization``, ``ram_used_gb``...);
the others carry their unit. Columns hold the sampler's own units (bytes, watts); ``scale`` converts a
stored value into the metric's unit on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gpu_sentinel.snapshot import GPUSample, HostSample

Scope = Literal["gpu", "host"]
BYTES_PER_GB = 1024**3


@dataclass(frozen=True, slots=True)
class Metric:
    """One stored series: ``column`` names its column in every tier's table."""

    name: str
    scope: Scope
    column: str
    unit: str
    help: str
    integer: bool = False
    scale: float = 1.0
    chart: bool = False


def _gpu(attribute: str) -> Callable[[GPUSample], float | int | None]:
    return lambda sample: getattr(sample, attribute)


def _host(attribute: str) -> Callable[[HostSample], float | int | None]:
    return lambda sample: getattr(sample, attribute)


GPU_METRICS: tuple[Metric, ...] = (
    Metric("gpu_utilization", "gpu", "util_gpu", "%", "GPU (SM) utilization", chart=True),
    Metric("memory_utilization", "gpu", "util_mem", "%", "Memory controller utilization"),
    Metric(
        "gpu_memory_used_gb",
        "gpu",
        "mem_used",
        "GB",
        "GPU memory in use (GiB)",
        integer=True,
        scale=1 / BYTES_PER_GB,
        chart=True,
    ),
    Metric("temperature", "gpu", "temp", "°C", "GPU core temperature", chart=True),
    Metric("memory_temperature", "gpu", "mem_temp", "°C", "GPU memory (HBM) temperature"),
    Metric("power_watts", "gpu", "power", "W", "Board power draw", chart=True),
    Metric("fan_speed", "gpu", "fan", "%", "Fan speed"),
    Metric("gpu_clock_mhz", "gpu", "sm_clock", "MHz", "SM clock"),
    Metric("memory_clock_mhz", "gpu", "mem_clock", "MHz", "Memory clock"),
    Metric("pcie_tx_bytes_per_s", "gpu", "pcie_tx", "B/s", "PCIe transmit throughput"),
    Metric("pcie_rx_bytes_per_s", "gpu", "pcie_rx", "B/s", "PCIe receive throughput"),
    Metric("encoder_utilization", "gpu", "enc", "%", "Video encoder utilization"),
    Metric("decoder_utilization", "gpu", "dec", "%", "Video decoder utilization"),
)

HOST_METRICS: tuple[Metric, ...] = (
    Metric("cpu_utilization", "host", "cpu", "%", "Host CPU utilization (all cores)", chart=True),
    Metric(
        "ram_used_gb",
        "host",
        "ram_used",
        "GB",
        "Host memory in use (GiB)",
        integer=True,
        scale=1 / BYTES_PER_GB,
        chart=True,
    ),
    Metric("ram_used_percent", "host", "ram_pct", "%", "Host memory in use"),
    Metric("swap_used_percent", "host", "swap_pct", "%", "Swap in use"),
    Metric("load_1m", "host", "load1", "", "1-minute load average"),
    Metric("network_sent_bytes_per_s", "host", "net_tx", "B/s", "Network upload"),
    Metric("network_recv_bytes_per_s", "host", "net_rx", "B/s", "Network download"),
    Metric("disk_read_bytes_per_s", "host", "disk_rd", "B/s", "Disk reads"),
    Metric("disk_write_bytes_per_s", "host", "disk_wr", "B/s", "Disk writes"),
)

METRICS: dict[str, Metric] = {metric.name: metric for metric in GPU_METRICS + HOST_METRICS}
CHART_METRICS: tuple[str, ...] = tuple(metric.name for metric in GPU_METRICS + HOST_METRICS if metric.chart)

GPU_SOURCES: dict[str, Callable[[GPUSample], float | int | None]] = {
    "util_gpu": _gpu("utilization_gpu_pct"),
    "util_mem": _gpu("utilization_memory_pct"),
    "mem_used": _gpu("memory_used_bytes"),
    "temp": _gpu("temperature_c"),
    "mem_temp": _gpu("memory_temperature_c"),
    "power": _gpu("power_w"),
    "fan": _gpu("fan_speed_pct"),
    "sm_clock": _gpu("sm_clock_mhz"),
    "mem_clock": _gpu("memory_clock_mhz"),
    "pcie_tx": _gpu("pcie_tx_bytes_per_s"),
    "pcie_rx": _gpu("pcie_rx_bytes_per_s"),
    "enc": _gpu("encoder_pct"),
    "dec": _gpu("decoder_pct"),
}

HOST_SOURCES: dict[str, Callable[[HostSample], float | int | None]] = {
    "cpu": _host("cpu_pct"),
    "ram_used": _host("memory_used_bytes"),
    "ram_pct": _host("memory_used_pct"),
    "swap_pct": _host("swap_used_pct"),
    "load1": lambda host: host.load_average[0] if host.load_average else None,
    "net_tx": _host("network_sent_bytes_per_s"),
    "net_rx": _host("network_recv_bytes_per_s"),
    "disk_rd": _host("disk_read_bytes_per_s"),
    "disk_wr": _host("disk_write_bytes_per_s"),
}

GPU_COLUMNS: tuple[str, ...] = tuple(metric.column for metric in GPU_METRICS)
HOST_COLUMNS: tuple[str, ...] = tuple(metric.column for metric in HOST_METRICS)
