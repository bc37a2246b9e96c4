"""Host metrics from psutil: CPU, memory, swap, load, network and disk rates, storage.

Rates come from counter deltas between this collector's own consecutive samples, so they reflect the
sampler's interval however many clients read them. Anything psutil cannot read here (containers often
hide disk counters) becomes ``None``.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import psutil

from gpu_sentinel.snapshot import HostSample, StorageSample

log = logging.getLogger(__name__)

T = TypeVar("T")

# Pseudo and virtual filesystems that never hold user data.
PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
        "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "pstore", "ramfs", "rpc_pipefs",
        "securityfs", "squashfs", "sysfs", "tmpfs", "tracefs", "overlay", "nfsd", "fuse.lxcfs",
        "fuse.gvfsd-fuse", "fuse.portal",
    }
)  # fmt: skip
PSEUDO_MOUNT_PREFIXES = ("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker", "/boot/efi")


def _read(read: Callable[[], T]) -> T | None:
    """Call a psutil reader; a counter this system does not expose becomes ``None``."""
    try:
        return read()
    except (OSError, RuntimeError, NotImplementedError, AttributeError) as exc:
        log.debug("host metric unavailable: %s", exc)
        return None


def _cpu_busy_and_total(times: Any) -> tuple[float, float]:
    """Busy and total jiffies of one CPU-times record; idle includes I/O wait, total excludes guest time
    (already counted in user)."""
    total = sum(times)
    total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


def _percent(delta_busy: float, delta_total: float) -> float:
    if delta_total <= 0:
        return 0.0
    return round(min(100.0, max(0.0, 100.0 * delta_busy / delta_total)), 1)


class HostCollector:
    """Samples the host. Not thread-safe: the sampler thread is its only caller."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hostname = socket.gethostname()
        self._cpu_count = psutil.cpu_count(logical=True)
        self._boot_time = _read(psutil.boot_time)
        self._last_cpu: list[tuple[float, float]] | None = None
        self._last_counters: tuple[float, tuple[int, int] | None, tuple[int, int] | None] | None = None
        self._frequency_mhz: float | None = None
        self._storage: tuple[StorageSample, ...] = ()
        self._last_per_core: tuple[float, ...] = ()
        self._last_cpu_pct: float | None = None
        self._read_cpu()  # prime the deltas, so the first sample already has CPU usage

    def sample(self, include_slow: bool) -> HostSample:
        if include_slow or self._last_cpu is None:
            self._frequency_mhz = self._read_frequency()
            self._storage = self.read_storage()
        cpu_pct, per_core = self._read_cpu()
        memory = _read(psutil.virtual_memory)
        swap = _read(psutil.swap_memory)
        load = _read(os.getloadavg)
        network, disk = self._read_counters()
        sample = HostSample(
            hostname=self._hostname,
            cpu_pct=cpu_pct,
            cpu_per_core_pct=per_core,
            cpu_count=self._cpu_count,
            cpu_frequency_mhz=self._frequency_mhz,
            load_average=(round(load[0], 2), round(load[1], 2), round(load[2], 2)) if load else None,
            memory_total_bytes=memory.total if memory else None,
            memory_used_bytes=(memory.total - memory.available) if memory else None,
            memory_available_bytes=memory.available if memory else None,
            memory_used_pct=round(100.0 * (memory.total - memory.available) / memory.total, 1)
            if memory and memory.total
            else None,
            swap_total_bytes=swap.total if swap else None,
            swap_used_bytes=swap.used if swap else None,
            swap_used_pct=round(swap.percent, 1) if swap else None,
            storage=self._storage,
            boot_time=self._boot_time,
            **network,
            **disk,
        )
        return sample

    def _read_cpu(self) -> tuple[float | None, tuple[float, ...]]:
        per_cpu = _read(lambda: psutil.cpu_times(percpu=True))
        if not per_cpu:
            return None, ()
        current = [_cpu_busy_and_total(t) for t in per_cpu]
        previous, self._last_cpu = self._last_cpu, current
        if previous is None or len(previous) != len(current):
            return None, ()
        deltas = [(b - pb, t - pt) for (b, t), (pb, pt) in zip(current, previous, strict=True)]
        if sum(dt for _, dt in deltas) <= 0:
            # Within one kernel tick nothing moved; repeat the last reading rather than report 0 %.
            return self._last_cpu_pct, self._last_per_core
        per_core = tuple(_percent(db, dt) for db, dt in deltas)
        whole = _percent(sum(db for db, _ in deltas), sum(dt for _, dt in deltas))
        self._last_cpu_pct, self._last_per_core = whole, per_core
        return whole, per_core

    def _read_counters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        now = self._clock()
        nics = _read(lambda: psutil.net_io_counters(pernic=True))
        net: tuple[int, int] | None = None
        if nics is not None:
            external = [c for name, c in nics.items() if not name.startswith("lo")]
            net = (sum(c.bytes_sent for c in external), sum(c.bytes_recv for c in external))
        disks = _read(lambda: psutil.disk_io_counters(perdisk=False))
        disk = (disks.read_bytes, disks.write_bytes) if disks is not None else None

        previous, self._last_counters = self._last_counters, (now, net, disk)
        sent_rate = recv_rate = read_rate = write_rate = None
        if previous is not None and now > previous[0]:
            elapsed = now - previous[0]
            if net is not None and previous[1] is not None:
                sent_rate = max(0.0, (net[0] - previous[1][0]) / elapsed)
                recv_rate = max(0.0, (net[1] - previous[1][1]) / elapsed)
            if disk is not None and previous[2] is not None:
                read_rate = max(0.0, (disk[0] - previous[2][0]) / elapsed)
                write_rate = max(0.0, (disk[1] - previous[2][1]) / elapsed)
        network = {
            "network_sent_bytes_per_s": sent_rate,
            "network_recv_bytes_per_s": recv_rate,
            "network_sent_bytes_total": net[0] if net else None,
            "network_recv_bytes_total": net[1] if net else None,
        }
        disk_io = {
            "disk_read_bytes_per_s": read_rate,
            "disk_write_bytes_per_s": write_rate,
            "disk_read_bytes_total": disk[0] if disk else None,
            "disk_write_bytes_total": disk[1] if disk else None,
        }
        return network, disk_io

    @staticmethod
    def _read_frequency() -> float | None:
        freq = _read(psutil.cpu_freq)
        return round(freq.current, 1) if freq and freq.current else None

    @staticmethod
    def read_storage() -> tuple[StorageSample, ...]:
        """Usage of real mount points: no pseudo filesystems, each device once (its shortest mount)."""
        partitions = _read(lambda: psutil.disk_partitions(all=True)) or []
        by_device: dict[str, Any] = {}
        for part in partitions:
            if part.fstype in PSEUDO_FILESYSTEMS and part.mountpoint != "/":
                continue
            if part.mountpoint != "/" and part.mountpoint.startswith(PSEUDO_MOUNT_PREFIXES):
                continue
            known = by_device.get(part.device)
            if known is None or len(part.mountpoint) < len(known.mountpoint):
                by_device[part.device] = part
        storage = []
        for part in sorted(by_device.values(), key=lambda p: p.mountpoint):
            usage = _read(partial(psutil.disk_usage, part.mountpoint))
            if usage is None or usage.total == 0:
                continue
            storage.append(
                StorageSample(
                    mount_point=part.mountpoint,
                    device=part.device,
                    fstype=part.fstype,
                    total_bytes=usage.total,
                    used_bytes=usage.used,
                    used_pct=round(usage.percent, 1),
                )
            )
        return tuple(storage)
