"""Host collector: whole-machine CPU, rates from the collector's own deltas, missing counters as null."""

from __future__ import annotations

import time
from collections import namedtuple
from typing import Any

import psutil
import pytest

from gpu_sentinel.collectors.host import HostCollector

NetCounters = namedtuple("NetCounters", "bytes_sent bytes_recv")
DiskCounters = namedtuple("DiskCounters", "read_bytes write_bytes")
Partition = namedtuple("Partition", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_real_host_values_are_sane() -> None:
    collector = HostCollector()
    collector.sample(include_slow=True)
    time.sleep(0.1)
    sample = collector.sample(include_slow=False)

    assert sample.hostname
    assert sample.cpu_count == psutil.cpu_count()
    assert len(sample.cpu_per_core_pct) == psutil.cpu_count()
    assert sample.cpu_pct is None or 0.0 <= sample.cpu_pct <= 100.0
    assert sample.memory_total_bytes == psutil.virtual_memory().total
    assert sample.memory_used_pct is not None and 0 < sample.memory_used_pct < 100
    assert sample.load_average is not None and len(sample.load_average) == 3
    assert any(s.mount_point == "/" for s in sample.storage)


def test_cpu_percent_is_for_the_whole_machine_not_the_sum_of_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    times = psutil.cpu_times(percpu=True)
    fields = times[0]._fields
    cpu = type(times[0])

    def core(busy: float, idle: float) -> Any:
        values = dict.fromkeys(fields, 0.0)
        values.update(user=busy, idle=idle)
        return cpu(**values)

    readings = iter([[core(0, 0), core(0, 0)], [core(100, 0), core(0, 100)]])
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: next(readings))
    sample = HostCollector().sample(include_slow=False)

    assert sample.cpu_per_core_pct == (100.0, 0.0)
    assert sample.cpu_pct == 50.0


def test_rates_come_from_deltas_over_the_collectors_own_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    net = iter(
        [
            {"lo": NetCounters(0, 0), "eth0": NetCounters(1_000, 2_000)},
            {"lo": NetCounters(10**9, 10**9), "eth0": NetCounters(1_000 + 250_000, 2_000 + 1_000_000)},
        ]
    )
    disk = iter([DiskCounters(0, 0), DiskCounters(4_000_000, 1_000_000)])
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic=False: next(net))
    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: next(disk))
    clock = Clock()
    collector = HostCollector(clock=clock)

    first = collector.sample(include_slow=False)
    assert first.network_sent_bytes_per_s is None and first.disk_read_bytes_per_s is None

    clock.now += 0.5
    second = collector.sample(include_slow=False)
    assert second.network_sent_bytes_per_s == 500_000  # loopback traffic is not network traffic
    assert second.network_recv_bytes_per_s == 2_000_000
    assert second.disk_read_bytes_per_s == 8_000_000 and second.disk_write_bytes_per_s == 2_000_000
    assert second.network_sent_bytes_total == 251_000


def test_counters_a_container_hides_are_null_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: None)

    def no_frequency() -> None:
        raise FileNotFoundError("/sys/devices/system/cpu/cpu0/cpufreq")

    monkeypatch.setattr(psutil, "cpu_freq", no_frequency)
    collector = HostCollector()
    collector.sample(include_slow=True)
    sample = collector.sample(include_slow=True)
    assert sample.disk_read_bytes_per_s is None and sample.disk_read_bytes_total is None
    assert sample.cpu_frequency_mhz is None
    assert sample.memory_total_bytes is not None


def test_storage_lists_real_filesystems_once(monkeypatch: pytest.MonkeyPatch) -> None:
    partitions = [
        Partition("/dev/nvme0n1p2", "/", "ext4", "rw"),
        Partition("/dev/nvme0n1p2", "/var/lib/docker/overlay2", "ext4", "rw"),
        Partition("/dev/nvme0n1p2", "/home/alice/bind", "ext4", "rw"),
        Partition("/dev/sdb1", "/data", "xfs", "rw"),
        Partition("proc", "/proc", "proc", "rw"),
        Partition("tmpfs", "/dev/shm", "tmpfs", "rw"),
        Partition("/dev/loop3", "/snap/core/1", "squashfs", "ro"),
        Partition("/dev/sdc1", "/mnt/gone", "ext4", "rw"),
    ]

    def usage(path: str) -> Usage:
        if path == "/mnt/gone":
            raise PermissionError(path)
        return Usage(1000 * 1024**3, 250 * 1024**3, 750 * 1024**3, 25.0)

    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: partitions)
    monkeypatch.setattr(psutil, "disk_usage", usage)

    storage = HostCollector.read_storage()
    assert [s.mount_point for s in storage] == ["/", "/data"]
    assert storage[1].fstype == "xfs" and storage[1].used_pct == 25.0
