"""Turns snapshots into the API's response bodies, once per snapshot.

Sample once, serve many: the JSON of each response is built the first time a snapshot is asked for it
and reused by every later request until the next snapshot, so a request costs a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from gpu_sentinel import models
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, Snapshot

GIB = 1024**3
MIB = 1024**2

# GB/s per lane by PCIe generation, after line encoding (8b/10b up to gen 2, 128b/130b after).
PCIE_GBPS_PER_LANE = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _scaled(value: float | None, divisor: float, digits: int = 2) -> float | None:
    return None if value is None else round(value / divisor, digits)


def _percent(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def pcie_bandwidth_gbps(generation: int | None, width: int | None) -> float | None:
    per_lane = PCIE_GBPS_PER_LANE.get(generation or 0)
    if per_lane is None or not width:
        return None
    return round(per_lane * width, 2)


def gpu_info(info: GPUInfo, lost: bool = False) -> models.GPUInfo:
    return models.GPUInfo(
        id=info.index,
        name=info.name,
        memory_total_gb=_scaled(info.memory_total_bytes, GIB),
        cuda_version=info.cuda_version,
        driver_version=info.driver_version,
        compute_capability=info.compute_capability,
        uuid=info.uuid,
        serial=info.serial,
        pci_bus_id=info.pci_bus_id,
        lost=lost,
    )


def gpu_metrics(sample: GPUSample) -> models.GPUMetrics:
    info = sample.info
    total = sample.memory_total_bytes or info.memory_total_bytes
    used = sample.memory_used_bytes
    utilization = _round(sample.utilization_gpu_pct, 1)
    return models.GPUMetrics(
        gpu_id=info.index,
        gpu_name=info.name,
        uuid=info.uuid,
        pci_bus_id=info.pci_bus_id,
        lost=sample.lost,
        utilization=models.GPUUtilization(
            gpu=utilization, memory=_round(sample.utilization_memory_pct, 1), compute=utilization
        ),
        memory=models.GPUMemory(
            used_gb=_scaled(used, GIB),
            total_gb=_scaled(total, GIB),
            used_percent=_percent(used, total),
            free_gb=_scaled(total - used, GIB) if total is not None and used is not None else None,
        ),
        temperature=sample.temperature_c,
        memory_temperature=sample.memory_temperature_c,
        power=models.GPUPower(
            current_watts=_round(sample.power_w, 1),
            max_watts=_round(sample.power_limit_w, 1),
            usage_percent=_percent(sample.power_w, sample.power_limit_w),
            energy_joules=_round(sample.energy_j, 1),
        ),
        fan_speed=sample.fan_speed_pct,
        clocks=models.GPUClocks(
            gpu_mhz=sample.sm_clock_mhz,
            gpu_max_mhz=info.gpu_max_mhz,
            memory_mhz=sample.memory_clock_mhz,
            memory_max_mhz=info.memory_max_mhz,
        ),
        pcie=models.GPUPCIe(
            bandwidth_gbps=pcie_bandwidth_gbps(sample.pcie_generation, sample.pcie_width),
            generation=sample.pcie_generation,
            width=sample.pcie_width,
            max_generation=info.pcie_max_generation,
            max_width=info.pcie_max_width,
            tx_mb_per_s=_scaled(sample.pcie_tx_bytes_per_s, 1e6),
            rx_mb_per_s=_scaled(sample.pcie_rx_bytes_per_s, 1e6),
        ),
        encoder_utilization=sample.encoder_pct,
        decoder_utilization=sample.decoder_pct,
        pstate=sample.pstate,
        mig_mode=sample.mig_mode,
        health=models.GPUHealth(
            lost=sample.lost,
            xid_count=sample.xid_count,
            last_xid=sample.last_xid,
            xid_events=[models.XidEventModel(timestamp=e.timestamp, xid=e.xid) for e in sample.xid_events],
            clock_event_reasons=list(sample.clock_event_reasons)
            if sample.clock_event_reasons is not None
            else None,
            ecc=models.ECCErrors(
                corrected_volatile=sample.ecc_corrected_volatile,
                uncorrected_volatile=sample.ecc_uncorrected_volatile,
                corrected_aggregate=sample.ecc_corrected_aggregate,
                uncorrected_aggregate=sample.ecc_uncorrected_aggregate,
            ),
            retired_pages=models.RetiredPages(
                single_bit=sample.retired_pages_single_bit,
                double_bit=sample.retired_pages_double_bit,
                pending=sample.retired_pages_pending,
            ),
            remapped_rows=models.RemappedRows(
                correctable=sample.remapped_rows_correctable,
                uncorrectable=sample.remapped_rows_uncorrectable,
                pending=sample.remapped_rows_pending,
                failure=sample.remapped_rows_failure,
            ),
        ),
    )


def gpu_process(process: GPUProcess, gpu_id: int | None = None) -> models.GPUProcess:
    return models.GPUProcess(
        pid=process.pid,
        process_name=process.name,
        gpu_memory_mb=_scaled(process.gpu_memory_bytes, MIB, 1),
        cpu_percent=process.cpu_percent,
        user=process.user,
        host_memory_mb=_scaled(process.host_memory_bytes, MIB, 1),
        kind=process.kind,
        gpu_id=gpu_id,
    )


def system_metrics(host: HostSample, now: float) -> models.SystemMetrics:
    swap_available = (
        host.swap_total_bytes - host.swap_used_bytes
        if host.swap_total_bytes is not None and host.swap_used_bytes is not None
        else None
    )
    return models.SystemMetrics(
        hostname=host.hostname,
        uptime_seconds=round(now - host.boot_time, 0) if host.boot_time else None,
        cpu=models.CPUMetrics(
            usage_percent=host.cpu_pct,
            core_count=host.cpu_count,
            frequency_mhz=host.cpu_frequency_mhz,
            per_core_percent=list(host.cpu_per_core_pct),
            load_average=list(host.load_average) if host.load_average else None,
        ),
        memory=models.MemoryMetrics(
            used_gb=_scaled(host.memory_used_bytes, GIB),
            total_gb=_scaled(host.memory_total_bytes, GIB),
            used_percent=host.memory_used_pct,
            available_gb=_scaled(host.memory_available_bytes, GIB),
        ),
        swap=models.MemoryMetrics(
            used_gb=_scaled(host.swap_used_bytes, GIB),
            total_gb=_scaled(host.swap_total_bytes, GIB),
            used_percent=host.swap_used_pct,
            available_gb=_scaled(swap_available, GIB),
        ),
        network=models.NetworkMetrics(
            upload_mbps=_scaled(host.network_sent_bytes_per_s, 1e6 / 8),
            download_mbps=_scaled(host.network_recv_bytes_per_s, 1e6 / 8),
        ),
        disk_io=models.DiskIOMetrics(
            read_mbps=_scaled(host.disk_read_bytes_per_s, 1e6),
            write_mbps=_scaled(host.disk_write_bytes_per_s, 1e6),
        ),
    )


def storage(host: HostSample) -> list[models.StorageInfo]:
    return [
        models.StorageInfo(
            mount_point=s.mount_point,
            used_gb=round(s.used_bytes / GIB, 2),
            total_gb=round(s.total_bytes / GIB, 2),
            used_percent=s.used_pct,
            fstype=s.fstype,
        )
        for s in host.storage
    ]


def gpu_list(snapshot: Snapshot) -> list[models.GPUInfo]:
    return [gpu_info(sample.info, sample.lost) for sample in snapshot.gpus]


def monitoring_all(snapshot: Snapshot, gpu_id: int) -> models.MonitoringDataResponse:
    sample = snapshot.gpu(gpu_id)
    return models.MonitoringDataResponse(
        gpu_available=snapshot.gpu_available,
        gpu_status=snapshot.gpu_status,
        timestamp=snapshot.timestamp,
        gpu_list=gpu_list(snapshot),
        gpu_metrics=gpu_metrics(sample) if sample is not None else None,
        system_metrics=system_metrics(snapshot.host, snapshot.timestamp),
        gpu_processes=[gpu_process(p) for p in sample.processes] if sample is not None else [],
        storage=storage(snapshot.host),
    )


def all_gpus(snapshot: Snapshot) -> models.AllGPUsResponse:
    return models.AllGPUsResponse(
        gpu_available=snapshot.gpu_available,
        timestamp=snapshot.timestamp,
        gpus=[gpu_metrics(sample) for sample in snapshot.gpus],
        gpu_processes=[gpu_process(p, sample.index) for sample in snapshot.gpus for p in sample.processes],
    )


class RenderedResponses:
    """JSON bodies of the current snapshot, built on first request and dropped when a new one arrives.

    Used only from the event loop thread, so it needs no lock.
    """

    def __init__(self) -> None:
        self._seq: int | None = None
        self._bodies: dict[Any, bytes] = {}

    def get(self, snapshot: Snapshot, key: Any, build: Callable[[], BaseModel | list[Any]]) -> bytes:
        if snapshot.seq != self._seq:
            self._seq = snapshot.seq
            self._bodies = {}
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = _dump(build())
        return body


def _dump(value: BaseModel | list[Any]) -> bytes:
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    return b"[" + b",".join(item.model_dump_json().encode() for item in value) + b"]"
