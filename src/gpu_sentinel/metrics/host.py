"""Readings of the host and of what runs on it: ``host``, ``cpu_core``, ``filesystem`` and ``process``."""

from __future__ import annotations

from gpu_sentinel.metrics.model import (
    Alert,
    Api,
    History,
    Metric,
    Prometheus,
    Reader,
    Thresholds,
    Value,
    attr,
)
from gpu_sentinel.snapshot import HostSample

GIB = 1024**3
MIB = 1024**2
GIB_SCALE = 1 / GIB
MEGABITS_PER_BYTE = 8 / 1e6
MB_SCALE = 1 / 1e6


def _load(index: int) -> Reader:
    def read(sample: HostSample) -> Value:
        return None if sample.load_average is None else sample.load_average[index]

    return read


def _swap_available_bytes(sample: HostSample) -> int | None:
    if sample.swap_total_bytes is None or sample.swap_used_bytes is None:
        return None
    return sample.swap_total_bytes - sample.swap_used_bytes


def _storage_used_pct(sample: HostSample) -> float | None:
    return max((s.used_pct for s in sample.storage), default=None)


def _bytes_total(key: str, help_text: str, label: str, name: str) -> Metric:
    return Metric(
        f"host.{key}",
        "host",
        "B",
        help_text,
        label,
        "bytes",
        attr(key),
        prometheus=Prometheus(name, "counter", "bytes"),
    )


HOST_METRICS: tuple[Metric, ...] = (
    Metric(
        "host.cpu_pct",
        "host",
        "%",
        "Host CPU utilization over the last sampling interval, all cores together",
        "CPU",
        "percent",
        attr("cpu_pct"),
        History("cpu_utilization", "cpu", "%", chart=True),
        Alert("host.cpu_pct", "%"),
        Prometheus("gpu_sentinel_host_cpu_utilization_ratio", "gauge", "ratio, 0-1", 0.01),
        Api("cpu.usage_percent", "%, 0-100, not the sum of cores"),
        thresholds=Thresholds(70, 85),
    ),
    Metric(
        "host.cpu_count",
        "host",
        "",
        "Logical CPUs of the host",
        "CPUs",
        "count",
        attr("cpu_count"),
        prometheus=Prometheus("gpu_sentinel_host_cpus", "gauge", ""),
        api=Api("cpu.core_count", ""),
    ),
    Metric(
        "host.cpu_frequency_mhz",
        "host",
        "MHz",
        "Current CPU clock frequency",
        "CPU clock",
        "mhz",
        attr("cpu_frequency_mhz"),
        prometheus=Prometheus("gpu_sentinel_host_cpu_frequency_hertz", "gauge", "hertz", 1e6),
        api=Api("cpu.frequency_mhz", "MHz"),
    ),
    Metric(
        "host.load_1m",
        "host",
        "",
        "One-minute load average",
        "Load (1 min)",
        "number",
        _load(0),
        History("load_1m", "load1", ""),
        Alert("host.load_1m", ""),
        Prometheus("gpu_sentinel_host_load1", "gauge", ""),
    ),
    Metric(
        "host.load_5m",
        "host",
        "",
        "Five-minute load average",
        "Load (5 min)",
        "number",
        _load(1),
        prometheus=Prometheus("gpu_sentinel_host_load5", "gauge", ""),
    ),
    Metric(
        "host.load_15m",
        "host",
        "",
        "Fifteen-minute load average",
        "Load (15 min)",
        "number",
        _load(2),
        prometheus=Prometheus("gpu_sentinel_host_load15", "gauge", ""),
    ),
    Metric(
        "host.memory_total_bytes",
        "host",
        "B",
        "Physical memory of the host",
        "RAM total",
        "bytes",
        attr("memory_total_bytes"),
        prometheus=Prometheus("gpu_sentinel_host_memory_total_bytes", "gauge", "bytes"),
        api=Api("memory.total_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.memory_used_bytes",
        "host",
        "B",
        "Physical memory in use",
        "RAM used",
        "bytes",
        attr("memory_used_bytes"),
        History("ram_used_gb", "ram_used", "GB", GIB_SCALE, "BIGINT", chart=True),
        prometheus=Prometheus("gpu_sentinel_host_memory_used_bytes", "gauge", "bytes"),
        api=Api("memory.used_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.memory_available_bytes",
        "host",
        "B",
        "Memory that programs can get without swapping",
        "RAM available",
        "bytes",
        attr("memory_available_bytes"),
        prometheus=Prometheus("gpu_sentinel_host_memory_available_bytes", "gauge", "bytes"),
        api=Api("memory.available_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.memory_used_pct",
        "host",
        "%",
        "Physical memory in use as a share of the total",
        "RAM used",
        "percent",
        attr("memory_used_pct"),
        History("ram_used_percent", "ram_pct", "%"),
        Alert("host.memory_used_pct", "%"),
        api=Api("memory.used_percent", "%"),
        thresholds=Thresholds(85, 95),
    ),
    Metric(
        "host.swap_total_bytes",
        "host",
        "B",
        "Swap space",
        "Swap total",
        "bytes",
        attr("swap_total_bytes"),
        prometheus=Prometheus("gpu_sentinel_host_swap_total_bytes", "gauge", "bytes"),
        api=Api("swap.total_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.swap_used_bytes",
        "host",
        "B",
        "Swap space in use",
        "Swap used",
        "bytes",
        attr("swap_used_bytes"),
        prometheus=Prometheus("gpu_sentinel_host_swap_used_bytes", "gauge", "bytes"),
        api=Api("swap.used_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.swap_available_bytes",
        "host",
        "B",
        "Swap space free",
        "Swap free",
        "bytes",
        _swap_available_bytes,
        api=Api("swap.available_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "host.swap_used_pct",
        "host",
        "%",
        "Swap in use as a share of the total",
        "Swap used",
        "percent",
        attr("swap_used_pct"),
        History("swap_used_percent", "swap_pct", "%"),
        Alert("host.swap_used_pct", "%"),
        api=Api("swap.used_percent", "%"),
        thresholds=Thresholds(85, 95),
    ),
    Metric(
        "host.network_sent_bytes_per_s",
        "host",
        "B/s",
        "Network send rate, all interfaces but loopback",
        "Network upload",
        "bytes_per_s",
        attr("network_sent_bytes_per_s"),
        History("network_sent_bytes_per_s", "net_tx", "B/s"),
        Alert("host.network_sent_bytes_per_s", "B/s"),
        api=Api("network.upload_mbps", "megabits/s", MEGABITS_PER_BYTE, 2),
    ),
    Metric(
        "host.network_recv_bytes_per_s",
        "host",
        "B/s",
        "Network receive rate, all interfaces but loopback",
        "Network download",
        "bytes_per_s",
        attr("network_recv_bytes_per_s"),
        History("network_recv_bytes_per_s", "net_rx", "B/s"),
        Alert("host.network_recv_bytes_per_s", "B/s"),
        api=Api("network.download_mbps", "megabits/s", MEGABITS_PER_BYTE, 2),
    ),
    Metric(
        "host.disk_read_bytes_per_s",
        "host",
        "B/s",
        "Disk read rate, all disks",
        "Disk reads",
        "bytes_per_s",
        attr("disk_read_bytes_per_s"),
        History("disk_read_bytes_per_s", "disk_rd", "B/s"),
        Alert("host.disk_read_bytes_per_s", "B/s"),
        api=Api("disk_io.read_mbps", "MB/s", MB_SCALE, 2),
    ),
    Metric(
        "host.disk_write_bytes_per_s",
        "host",
        "B/s",
        "Disk write rate, all disks",
        "Disk writes",
        "bytes_per_s",
        attr("disk_write_bytes_per_s"),
        History("disk_write_bytes_per_s", "disk_wr", "B/s"),
        Alert("host.disk_write_bytes_per_s", "B/s"),
        api=Api("disk_io.write_mbps", "MB/s", MB_SCALE, 2),
    ),
    _bytes_total(
        "network_sent_bytes_total",
        "Bytes sent on all network interfaces since boot",
        "Network sent",
        "gpu_sentinel_host_network_sent_bytes_total",
    ),
    _bytes_total(
        "network_recv_bytes_total",
        "Bytes received on all network interfaces since boot",
        "Network received",
        "gpu_sentinel_host_network_received_bytes_total",
    ),
    _bytes_total(
        "disk_read_bytes_total",
        "Bytes read from all disks since boot",
        "Disk read",
        "gpu_sentinel_host_disk_read_bytes_total",
    ),
    _bytes_total(
        "disk_write_bytes_total",
        "Bytes written to all disks since boot",
        "Disk written",
        "gpu_sentinel_host_disk_written_bytes_total",
    ),
    Metric(
        "host.boot_time",
        "host",
        "s",
        "Unix time the host booted",
        "Boot time",
        "seconds",
        attr("boot_time"),
        prometheus=Prometheus("gpu_sentinel_host_boot_time_seconds", "gauge", "seconds"),
    ),
    Metric(
        "host.storage_used_pct",
        "host",
        "%",
        "Fullest mounted filesystem",
        "Fullest filesystem",
        "percent",
        _storage_used_pct,
        alert=Alert("host.storage_used_pct", "%"),
        thresholds=Thresholds(85, 95),
    ),
)

CORE_METRICS: tuple[Metric, ...] = (
    Metric(
        "cpu_core.utilization_pct",
        "cpu_core",
        "%",
        "Utilization of one logical CPU over the last sampling interval",
        "Core",
        "percent",
        lambda pct: pct,
        prometheus=Prometheus("gpu_sentinel_host_cpu_core_utilization_ratio", "gauge", "ratio, 0-1", 0.01),
        api=Api("cpu.per_core_percent", "%"),
    ),
)
"""Read from each core's utilization figure (a float) rather than from a record."""


def _filesystem(key: str, help_text: str, label: str, prometheus: str | None, api: Api) -> Metric:
    return Metric(
        f"filesystem.{key}",
        "filesystem",
        "B",
        help_text,
        label,
        "bytes",
        attr(key),
        prometheus=Prometheus(prometheus, "gauge", "bytes") if prometheus else None,
        api=api,
    )


FILESYSTEM_METRICS: tuple[Metric, ...] = (
    _filesystem(
        "total_bytes",
        "Size of a mounted filesystem",
        "Size",
        "gpu_sentinel_host_filesystem_size_bytes",
        Api("total_gb", "GiB", GIB_SCALE, 2),
    ),
    _filesystem(
        "used_bytes",
        "Space in use on a mounted filesystem",
        "Used",
        "gpu_sentinel_host_filesystem_used_bytes",
        Api("used_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "filesystem.used_pct",
        "filesystem",
        "%",
        "Space in use on a mounted filesystem as a share of its size",
        "Used",
        "percent",
        attr("used_pct"),
        api=Api("used_percent", "%"),
        thresholds=Thresholds(85, 95),
    ),
)

PROCESS_METRICS: tuple[Metric, ...] = (
    Metric(
        "process.gpu_memory_bytes",
        "process",
        "B",
        "GPU memory used by a process holding a context on the GPU",
        "GPU memory",
        "bytes",
        attr("gpu_memory_bytes"),
        prometheus=Prometheus("gpu_sentinel_gpu_process_memory_bytes", "gauge", "bytes"),
        api=Api("gpu_memory_mb", "MiB", 1 / MIB, 1),
    ),
    Metric(
        "process.cpu_pct",
        "process",
        "%",
        "CPU used by a process holding a GPU context, one core being 100",
        "CPU",
        "percent",
        attr("cpu_percent"),
        api=Api("cpu_percent", "%"),
    ),
    Metric(
        "process.host_memory_bytes",
        "process",
        "B",
        "Host memory (resident set) of a process holding a GPU context",
        "Host memory",
        "bytes",
        attr("host_memory_bytes"),
        api=Api("host_memory_mb", "MiB", 1 / MIB, 1),
    ),
)
