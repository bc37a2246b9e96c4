"""Response models: the shapes of spec 003 §3 (field names kept), extended with deeper GPU metrics.

Every metric is nullable: a GPU that cannot report something says ``null`` (the dashboard renders N/A),
never a made-up 0. Units: GiB for ``*_gb``, MiB for ``*_mb``, megabits/s for network, MB/s for disk.
Metric fields take their documentation from the metric registry.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gpu_sentinel.metrics import api_field as metric_field


class GPUUtilization(BaseModel):
    gpu: float | None = metric_field("gpu.utilization_pct")
    memory: float | None = metric_field("gpu.memory_utilization_pct")
    compute: float | None = Field(
        description="Compute utilization, 0-100. NVML reports one kernel-activity figure, so it equals `gpu`."
    )


class GPUMemory(BaseModel):
    used_gb: float | None = metric_field("gpu.memory_used_bytes")
    total_gb: float | None = metric_field("gpu.memory_total_bytes")
    used_percent: float | None = metric_field("gpu.memory_used_pct")
    free_gb: float | None = metric_field("gpu.memory_free_bytes", default=None)
    reserved_gb: float | None = metric_field("gpu.memory_reserved_bytes", default=None)


class GPUPower(BaseModel):
    current_watts: float | None = metric_field("gpu.power_w")
    max_watts: float | None = metric_field("gpu.power_limit_w")
    usage_percent: float | None = metric_field("gpu.power_limit_pct")
    energy_joules: float | None = metric_field("gpu.energy_j", default=None)


class GPUClocks(BaseModel):
    gpu_mhz: int | None = metric_field("gpu.sm_clock_mhz")
    gpu_max_mhz: int | None
    memory_mhz: int | None = metric_field("gpu.memory_clock_mhz")
    memory_max_mhz: int | None


class GPUPCIe(BaseModel):
    bandwidth_gbps: float | None = metric_field("gpu.pcie_link_bytes_per_s")
    generation: int | None = metric_field("gpu.pcie_generation")
    width: int | None = metric_field("gpu.pcie_width")
    max_generation: int | None = None
    max_width: int | None = None
    tx_mb_per_s: float | None = metric_field("gpu.pcie_tx_bytes_per_s", default=None)
    rx_mb_per_s: float | None = metric_field("gpu.pcie_rx_bytes_per_s", default=None)
    replay_count: int | None = metric_field("gpu.pcie_replay_count", default=None)


class GPUNVLink(BaseModel):
    tx_mb_per_s: float | None = metric_field("gpu.nvlink_tx_bytes_per_s", default=None)
    rx_mb_per_s: float | None = metric_field("gpu.nvlink_rx_bytes_per_s", default=None)
    crc_flit_errors: int | None = metric_field("gpu.nvlink_crc_flit_errors", default=None)
    crc_data_errors: int | None = metric_field("gpu.nvlink_crc_data_errors", default=None)
    replay_errors: int | None = metric_field("gpu.nvlink_replay_errors", default=None)
    recovery_errors: int | None = metric_field("gpu.nvlink_recovery_errors", default=None)


class GPUProfiling(BaseModel):
    """GPM profiling metrics (Hopper and newer); null on other GPUs, with ``status`` saying why."""

    status: str | None = Field(
        None,
        description="ok; unsupported (no GPM on this GPU or driver); no_permission; pending (first "
        "interval not complete yet); error.",
    )
    graphics_active_pct: float | None = metric_field("gpu.graphics_active_pct", default=None)
    sm_active_pct: float | None = metric_field("gpu.sm_active_pct", default=None)
    sm_occupancy_pct: float | None = metric_field("gpu.sm_occupancy_pct", default=None)
    tensor_active_pct: float | None = metric_field("gpu.tensor_active_pct", default=None)
    tensor_hmma_active_pct: float | None = metric_field("gpu.tensor_hmma_active_pct", default=None)
    tensor_imma_active_pct: float | None = metric_field("gpu.tensor_imma_active_pct", default=None)
    tensor_dfma_active_pct: float | None = metric_field("gpu.tensor_dfma_active_pct", default=None)
    dram_active_pct: float | None = metric_field("gpu.dram_active_pct", default=None)
    fp64_active_pct: float | None = metric_field("gpu.fp64_active_pct", default=None)
    fp32_active_pct: float | None = metric_field("gpu.fp32_active_pct", default=None)
    fp16_active_pct: float | None = metric_field("gpu.fp16_active_pct", default=None)
    pcie_tx_mb_per_s: float | None = metric_field("gpu.prof_pcie_tx_bytes_per_s", default=None)
    pcie_rx_mb_per_s: float | None = metric_field("gpu.prof_pcie_rx_bytes_per_s", default=None)


class MIGUtilization(BaseModel):
    gpu: float | None = metric_field("mig.utilization_pct", default=None)


class MIGMemory(BaseModel):
    used_gb: float | None = metric_field("mig.memory_used_bytes", default=None)
    total_gb: float | None = metric_field("mig.memory_total_bytes", default=None)
    free_gb: float | None = metric_field("mig.memory_free_bytes", default=None)
    used_percent: float | None = metric_field("mig.memory_used_pct", default=None)


class MIGProfiling(BaseModel):
    """GPM activity of the GPU instance (``nvmlGpmMigSampleGet``); null without GPM."""

    status: str | None = Field(None, description="As for the whole GPU's profiling status.")
    graphics_active_pct: float | None = metric_field("mig.graphics_active_pct", default=None)
    sm_active_pct: float | None = metric_field("mig.sm_active_pct", default=None)
    sm_occupancy_pct: float | None = metric_field("mig.sm_occupancy_pct", default=None)
    tensor_active_pct: float | None = metric_field("mig.tensor_active_pct", default=None)
    tensor_hmma_active_pct: float | None = metric_field("mig.tensor_hmma_active_pct", default=None)
    tensor_imma_active_pct: float | None = metric_field("mig.tensor_imma_active_pct", default=None)
    tensor_dfma_active_pct: float | None = metric_field("mig.tensor_dfma_active_pct", default=None)
    dram_active_pct: float | None = metric_field("mig.dram_active_pct", default=None)
    fp64_active_pct: float | None = metric_field("mig.fp64_active_pct", default=None)
    fp32_active_pct: float | None = metric_field("mig.fp32_active_pct", default=None)
    fp16_active_pct: float | None = metric_field("mig.fp16_active_pct", default=None)


class MIGInstance(BaseModel):
    """One MIG device of a GPU in MIG mode: a GPU instance and the compute instance processes run on."""

    index: int = Field(description="The MIG device's index under its GPU.")
    uuid: str | None = Field(None, description="The MIG device's UUID (MIG-...).")
    profile: str | None = Field(None, description="GPU-instance profile, e.g. `1g.10gb`.")
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    utilization: MIGUtilization
    memory: MIGMemory
    profiling: MIGProfiling
    pids: list[int] = Field(
        default_factory=list, description="Processes running on it (details in the process list)."
    )


class GPUViolations(BaseModel):
    """NVML's cumulative clock-violation timers: how long clocks were held down, and by what."""

    power_s: float | None = metric_field("gpu.power_violation_s", default=None)
    thermal_s: float | None = metric_field("gpu.thermal_violation_s", default=None)
    sync_boost_s: float | None = metric_field("gpu.sync_boost_violation_s", default=None)
    board_limit_s: float | None = metric_field("gpu.board_limit_violation_s", default=None)
    low_util_s: float | None = metric_field("gpu.low_util_violation_s", default=None)
    reliability_s: float | None = metric_field("gpu.reliability_violation_s", default=None)


class XidEventModel(BaseModel):
    timestamp: float = Field(description="Unix seconds.")
    xid: int


class ECCErrors(BaseModel):
    corrected_volatile: int | None = metric_field("gpu.ecc_corrected_volatile")
    uncorrected_volatile: int | None = metric_field("gpu.ecc_uncorrected_volatile")
    corrected_aggregate: int | None = metric_field("gpu.ecc_corrected_aggregate")
    uncorrected_aggregate: int | None = metric_field("gpu.ecc_uncorrected_aggregate")


class RetiredPages(BaseModel):
    single_bit: int | None = metric_field("gpu.retired_pages_single_bit")
    double_bit: int | None = metric_field("gpu.retired_pages_double_bit")
    pending: bool | None = metric_field("gpu.retired_pages_pending")


class RemappedRows(BaseModel):
    correctable: int | None = metric_field("gpu.remapped_rows_correctable")
    uncorrectable: int | None = metric_field("gpu.remapped_rows_uncorrectable")
    pending: bool | None = metric_field("gpu.remapped_rows_pending")
    failure: bool | None = metric_field("gpu.remapped_rows_failure")


UNRESPONSIVE_SINCE = "Unix seconds of the first read that missed its deadline; null while the GPU answers."


class GPUHealth(BaseModel):
    lost: bool = metric_field("gpu.lost")
    unresponsive: bool = metric_field("gpu.unresponsive", default=False)
    unresponsive_since: float | None = Field(None, description=UNRESPONSIVE_SINCE)
    xid_count: int = metric_field("gpu.xid_count")
    last_xid: int | None = metric_field("gpu.last_xid")
    xid_events: list[XidEventModel] = Field(description="The most recent XID errors, oldest first.")
    clock_event_reasons: list[str] | None = metric_field("gpu.clock_event_reasons")
    ecc: ECCErrors
    retired_pages: RetiredPages
    remapped_rows: RemappedRows
    vgpu_license_state: int | None = metric_field("gpu.vgpu_license_state", default=None)


class GPUMetrics(BaseModel):
    gpu_id: int
    gpu_name: str
    uuid: str | None = None
    pci_bus_id: str | None = None
    lost: bool = metric_field("gpu.lost", default=False)
    unresponsive: bool = metric_field("gpu.unresponsive", default=False)
    unresponsive_since: float | None = Field(None, description=UNRESPONSIVE_SINCE)
    utilization: GPUUtilization
    memory: GPUMemory
    temperature: float | None = metric_field("gpu.temperature_c")
    memory_temperature: float | None = metric_field("gpu.memory_temperature_c", default=None)
    power: GPUPower
    fan_speed: float | None = metric_field("gpu.fan_speed_pct")
    clocks: GPUClocks
    pcie: GPUPCIe
    nvlink: GPUNVLink | None = None
    violations: GPUViolations | None = None
    encoder_utilization: float | None = metric_field("gpu.encoder_utilization_pct")
    decoder_utilization: float | None = metric_field("gpu.decoder_utilization_pct")
    pstate: int | None = metric_field("gpu.pstate", default=None)
    mig_mode: bool | None = metric_field("gpu.mig_mode", default=None)
    health: GPUHealth | None = None
    profiling: GPUProfiling | None = None
    mig_instances: list[MIGInstance] = Field(
        default_factory=list, description="The GPU's MIG devices while MIG mode is on; empty otherwise."
    )


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
    usage_percent: float | None = metric_field("host.cpu_pct")
    core_count: int | None = metric_field("host.cpu_count")
    frequency_mhz: float | None = metric_field("host.cpu_frequency_mhz")
    per_core_percent: list[float] = metric_field("cpu_core.utilization_pct", default_factory=list)
    load_average: list[float] | None = Field(None, description="1, 5 and 15 minute load averages.")


class MemoryMetrics(BaseModel):
    used_gb: float | None = metric_field("host.memory_used_bytes")
    total_gb: float | None = metric_field("host.memory_total_bytes")
    used_percent: float | None = metric_field("host.memory_used_pct")
    available_gb: float | None = metric_field("host.memory_available_bytes")


class SwapMetrics(BaseModel):
    used_gb: float | None = metric_field("host.swap_used_bytes")
    total_gb: float | None = metric_field("host.swap_total_bytes")
    used_percent: float | None = metric_field("host.swap_used_pct")
    available_gb: float | None = metric_field("host.swap_available_bytes")


class NetworkMetrics(BaseModel):
    upload_mbps: float | None = metric_field("host.network_sent_bytes_per_s")
    download_mbps: float | None = metric_field("host.network_recv_bytes_per_s")


class DiskIOMetrics(BaseModel):
    read_mbps: float | None = metric_field("host.disk_read_bytes_per_s")
    write_mbps: float | None = metric_field("host.disk_write_bytes_per_s")


class SystemMetrics(BaseModel):
    hostname: str | None = None
    uptime_seconds: float | None = None
    cpu: CPUMetrics
    memory: MemoryMetrics
    swap: SwapMetrics
    network: NetworkMetrics
    disk_io: DiskIOMetrics


OWNER = "Read from the process's cgroup; null when it does not run in one."


class GPUProcess(BaseModel):
    pid: int
    process_name: str = Field(description="Executable name only: no path, no arguments.")
    gpu_memory_mb: float | None = metric_field("process.gpu_memory_bytes")
    cpu_percent: float | None = metric_field("process.cpu_pct")
    user: str | None = None
    sm_percent: float | None = metric_field("process.sm_util_pct", default=None)
    memory_util_percent: float | None = metric_field("process.memory_util_pct", default=None)
    encoder_percent: float | None = metric_field("process.encoder_util_pct", default=None)
    decoder_percent: float | None = metric_field("process.decoder_util_pct", default=None)
    host_memory_mb: float | None = metric_field("process.host_memory_bytes", default=None)
    kind: str | None = Field(None, description="compute, graphics or compute+graphics.")
    gpu_id: int | None = None
    container_id: str | None = Field(None, description=OWNER + " The container's full id.")
    container_runtime: str | None = Field(
        None, description="docker, containerd, cri-o or podman, where known."
    )
    pod_uid: str | None = Field(None, description=OWNER + " The Kubernetes pod's UID.")
    pod_namespace: str | None = Field(
        None, description="The pod's namespace, where the kubelet's logs show it."
    )
    pod_name: str | None = Field(
        None, description="The pod's name, where the kubelet's logs or HOSTNAME show it."
    )
    slurm_job_id: str | None = Field(None, description=OWNER + " The SLURM job id.")
    slurm_user: str | None = Field(None, description="The SLURM job's owner.")
    gpu_instance_id: int | None = Field(
        None, description="The MIG GPU instance it runs on; null when MIG mode is off."
    )
    compute_instance_id: int | None = Field(
        None, description="The MIG compute instance it runs on; null when MIG mode is off."
    )
    started_at: float | None = Field(
        None, description="When the process started, Unix seconds; null where it cannot be read."
    )
    status: str | None = Field(
        None, description="The OS's process state: running, sleeping, stopped (paused), disk-sleep, ..."
    )


class StorageInfo(BaseModel):
    mount_point: str
    used_gb: float = metric_field("filesystem.used_bytes")
    total_gb: float = metric_field("filesystem.total_bytes")
    used_percent: float = metric_field("filesystem.used_pct")
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
    unresponsive: list[int] = Field(
        default_factory=list, description="GPUs whose reads miss their deadline; they recover by themselves."
    )


class HistoryHealth(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded` while history cannot be written; live metrics, /metrics and alerts go on."
    )
    backend: Literal["sqlite", "postgresql"]
    reason: str | None = Field(description="Why history is degraded, and what happens to new samples.")
    last_write_timestamp: float | None = Field(description="Unix seconds of the last commit.")
    buffered_rows: int = Field(description="Rows held in memory because the spill file cannot be written.")
    spilled_bytes: int = Field(description="Bytes waiting in the spill file.")
    dropped_rows: int = Field(description="Rows lost since start because every buffer was full.")


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "stale", "starting"] = Field(
        description="`degraded` (HTTP 200): sampling works but history does not; `stale` (HTTP 503)."
    )
    version: str
    uptime_seconds: float
    sampler: SamplerHealth
    gpu: GPUSourceHealth
    history: HistoryHealth


class ErrorResponse(BaseModel):
    detail: str | list[dict[str, object]] = Field(description="What went wrong (spec 003).")
    error: str = Field(description="Stable error code (spec 000).")
    timestamp: str = Field(description="ISO 8601, UTC.")
