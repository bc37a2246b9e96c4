"""Response models: the shapes of spec 003 §3 (field names kept), extended with deeper GPU metrics.

Every metric is nullable: a GPU that cannot report something says ``null`` (the dashboard renders N/A),
never a made-up 0. Units: GiB for ``*_gb``, MiB for ``*_mb``, megabits/s for network, MB/s for disk.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class GPUUtilization(BaseModel):
    gpu: float | None = Field(description="Percent of time a kernel was running, 0-100.")
    memory: float | None = Field(description="Percent of time device memory was read or written, 0-100.")
    compute: float | None = Field(
        description="Compute utilization, 0-100. NVML reports one kernel-activity figure, so it equals `gpu`."
    )


class GPUMemory(BaseModel):
    used_gb: float | None
    total_gb: float | None
    used_percent: float | None
    free_gb: float | None = None


class GPUPower(BaseModel):
    current_watts: float | None
    max_watts: float | None = Field(description="Enforced power limit.")
    usage_percent: float | None
    energy_joules: float | None = Field(None, description="Energy used since the driver loaded.")


class GPUClocks(BaseModel):
    gpu_mhz: int | None = Field(description="Current SM clock.")
    gpu_max_mhz: int | None
    memory_mhz: int | None
    memory_max_mhz: int | None


class GPUPCIe(BaseModel):
    bandwidth_gbps: float | None = Field(
        description="Link bandwidth per direction at the current generation and width, GB/s."
    )
    generation: int | None
    width: int | None
    max_generation: int | None = None
    max_width: int | None = None
    tx_mb_per_s: float | None = Field(None, description="Measured transmit throughput, MB/s.")
    rx_mb_per_s: float | None = Field(None, description="Measured receive throughput, MB/s.")


class XidEventModel(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    xid: int


class ECCErrors(BaseModel):
    corrected_volatile: int | None
    uncorrected_volatile: int | None
    corrected_aggregate: int | None
    uncorrected_aggregate: int | None


class RetiredPages(BaseModel):
    single_bit: int | None
    double_bit: int | None
    pending: bool | None


class RemappedRows(BaseModel):
    correctable: int | None
    uncorrectable: int | None
    pending: bool | None
    failure: bool | None


class GPUHealth(BaseModel):
    lost: bool = Field(description="The GPU has fallen off the bus.")
    xid_count: int = Field(description="XID critical errors since the service started.")
    last_xid: int | None
    xid_events: list[XidEventModel] = Field(description="The most recent XID errors, oldest first.")
    clock_event_reasons: list[str] | None = Field(description="Why clocks are being held down right now.")
    ecc: ECCErrors
    retired_pages: RetiredPages
    remapped_rows: RemappedRows


class GPUMetrics(BaseModel):
    gpu_id: int
    gpu_name: str
    uuid: str | None = None
    pci_bus_id: str | None = None
    lost: bool = False
    utilization: GPUUtilization
    memory: GPUMemory
    temperature: float | None = Field(description="GPU core temperature, Celsius.")
    memory_temperature: float | None = Field(None, description="HBM temperature, Celsius.")
    power: GPUPower
    fan_speed: float | None = Field(description="Percent of maximum; null on fanless (SXM) boards.")
    clocks: GPUClocks
    pcie: GPUPCIe
    encoder_utilization: float | None
    decoder_utilization: float | None
    pstate: int | None = Field(None, description="Performance state, 0 (max) to 15 (min).")
    mig_mode: bool | None = None
    health: GPUHealth | None = None


class GPUInfo(BaseModel):
    id: int
    name: str
    memory_total_gb: float | None
    cuda_version: str | None
    driver_version: str | None
    compute_capability: str | None
    uuid: str | None = None
    serial: str | None = None
    pci_bus_id: str | None = None
    lost: bool = False


class CPUMetrics(BaseModel):
    usage_percent: float | None = Field(description="Whole machine, 0-100 (not the sum of cores).")
    core_count: int | None
    frequency_mhz: float | None
    per_core_percent: list[float] = Field(default_factory=list)
    load_average: list[float] | None = Field(None, description="1, 5 and 15 minute load averages.")


class MemoryMetrics(BaseModel):
    used_gb: float | None
    total_gb: float | None
    used_percent: float | None
    available_gb: float | None


class NetworkMetrics(BaseModel):
    upload_mbps: float | None = Field(description="Megabits per second, all interfaces but loopback.")
    download_mbps: float | None


class DiskIOMetrics(BaseModel):
    read_mbps: float | None = Field(description="Megabytes per second, all disks.")
    write_mbps: float | None


class SystemMetrics(BaseModel):
    hostname: str | None = None
    uptime_seconds: float | None = None
    cpu: CPUMetrics
    memory: MemoryMetrics
    swap: MemoryMetrics
    network: NetworkMetrics
    disk_io: DiskIOMetrics


class GPUProcess(BaseModel):
    pid: int
    process_name: str = Field(description="Executable name only: no path, no arguments.")
    gpu_memory_mb: float | None
    cpu_percent: float | None
    user: str | None = None
    host_memory_mb: float | None = None
    kind: str | None = Field(None, description="compute, graphics or compute+graphics.")
    gpu_id: int | None = None


class StorageInfo(BaseModel):
    mount_point: str
    used_gb: float
    total_gb: float
    used_percent: float
    fstype: str | None = None


class MonitoringDataResponse(BaseModel):
    gpu_available: bool
    gpu_status: str = Field("ok", description="Why GPUs are unavailable, when they are.")
    timestamp: float = Field(0.0, description="When the data was sampled, Unix seconds.")
    gpu_list: list[GPUInfo]
    gpu_metrics: GPUMetrics | None
    system_metrics: SystemMetrics
    gpu_processes: list[GPUProcess]
    storage: list[StorageInfo]


class AllGPUsResponse(BaseModel):
    """Every GPU in one response: the compare view and multi-GPU servers."""

    gpu_available: bool
    timestamp: float
    gpus: list[GPUMetrics]
    gpu_processes: list[GPUProcess]


class SamplerHealth(BaseModel):
    running: bool
    interval_seconds: float
    last_sample_timestamp: float | None
    last_sample_age_seconds: float | None
    samples: int
    overruns: int
    errors: int
    last_collection_seconds: float | None


class GPUSourceHealth(BaseModel):
    available: bool
    status: str
    count: int
    lost: list[int]


class HealthResponse(BaseModel):
    status: Literal["ok", "stale", "starting"]
    version: str
    uptime_seconds: float
    sampler: SamplerHealth
    gpu: GPUSourceHealth


class ErrorResponse(BaseModel):
    detail: str | list[dict[str, object]] = Field(description="What went wrong (spec 003).")
    error: str = Field(description="Stable error code (spec 000).")
    timestamp: str = Field(description="ISO 8601, UTC.")
