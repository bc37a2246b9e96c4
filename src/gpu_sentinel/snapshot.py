"""The sampler's output: immutable records of one moment of every GPU and the host.

Every later stage (API, store, alerts, stream, Prometheus) reads these records and nothing else, so
they are plain frozen dataclasses with units in their field names. A metric the hardware or driver
cannot report is ``None``, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GPUInfo:
    """What does not change while the service runs: read once per device."""

    index: int
    name: str
    uuid: str | None = None
    serial: str | None = None
    pci_bus_id: str | None = None
    memory_total_bytes: int | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    compute_capability: str | None = None
    gpu_max_mhz: int | None = None
    memory_max_mhz: int | None = None
    pcie_max_generation: int | None = None
    pcie_max_width: int | None = None


@dataclass(frozen=True, slots=True)
class XidEvent:
    """One XID critical error reported by the driver for a GPU."""

    timestamp: float
    xid: int


@dataclass(frozen=True, slots=True)
class GPUProcess:
    """A process holding a GPU context. Names are the executable's base name only (no path, no args)."""

    pid: int
    name: str
    kind: str  # "compute" or "graphics"
    gpu_memory_bytes: int | None = None
    cpu_percent: float | None = None
    host_memory_bytes: int | None = None
    user: str | None = None
    # Who owns it, from /proc/<pid>/cgroup (collectors.attribution); None where it is not in one.
    container_id: str | None = None
    container_runtime: str | None = None  # "docker", "containerd", "cri-o" or "podman"
    pod_uid: str | None = None
    pod_namespace: str | None = None
    pod_name: str | None = None
    slurm_job_id: str | None = None
    slurm_user: str | None = None
    # Shares of the GPU over the interval since the previous process read (NVML's per-process samples).
    sm_util_pct: float | None = None
    memory_util_pct: float | None = None
    encoder_util_pct: float | None = None
    decoder_util_pct: float | None = None
    # The MIG device it runs on, on a GPU in MIG mode (NVML's ids, matching a ``MIGInstance``'s).
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    # When the process started (Unix seconds, from /proc/<pid>/stat): tells it apart from a later
    # process given the same PID, so an action never reaches the wrong one. None where unknown.
    started_at: float | None = None
    status: str | None = None  # the OS's view: "running", "sleeping", "stopped" (paused), ...


@dataclass(frozen=True, slots=True)
class ProfilingSample:
    """GPM readings (Hopper and newer) of a whole GPU or of one GPU instance, percent of the interval
    between two fast reads. ``status`` says why they are missing: unsupported, no_permission, pending,
    error. PCIe bytes belong to the whole GPU: None on a MIG device."""

    status: str | None = None
    graphics_active_pct: float | None = None
    sm_active_pct: float | None = None
    sm_occupancy_pct: float | None = None
    tensor_active_pct: float | None = None
    tensor_hmma_active_pct: float | None = None
    tensor_imma_active_pct: float | None = None
    tensor_dfma_active_pct: float | None = None
    dram_active_pct: float | None = None
    fp64_active_pct: float | None = None
    fp32_active_pct: float | None = None
    fp16_active_pct: float | None = None
    pcie_tx_bytes_per_s: float | None = None
    pcie_rx_bytes_per_s: float | None = None


@dataclass(frozen=True, slots=True)
class MIGInstance:
    """One MIG device of a GPU in MIG mode: a GPU instance (its memory and GPM figures) and the compute
    instance processes run on. Utilization is None: NVML does not report it per MIG device."""

    index: int  # nvmlDeviceGetMigDeviceHandleByIndex's index under the parent
    uuid: str | None = None
    profile: str | None = None  # e.g. "1g.10gb", as the driver names the GPU-instance profile
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    utilization_gpu_pct: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    profiling: ProfilingSample = ProfilingSample()


@dataclass(frozen=True, slots=True)
class GPUSample:
    """One GPU at one moment. ``lost`` GPUs carry only their ``info`` and nulls."""

    info: GPUInfo
    lost: bool = False
    unresponsive_since: float | None = (
        None  # Unix seconds of the first missed read deadline; None when answering
    )
    utilization_gpu_pct: float | None = None
    utilization_memory_pct: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_c: float | None = None
    memory_temperature_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    energy_j: float | None = None
    fan_speed_pct: float | None = None
    sm_clock_mhz: int | None = None
    memory_clock_mhz: int | None = None
    pcie_generation: int | None = None
    pcie_width: int | None = None
    pcie_tx_bytes_per_s: float | None = None
    pcie_rx_bytes_per_s: float | None = None
    encoder_pct: float | None = None
    decoder_pct: float | None = None
    nvlink_tx_bytes_per_s: float | None = None
    nvlink_rx_bytes_per_s: float | None = None
    # Error totals of all NVLinks since the driver loaded.
    nvlink_crc_flit_errors: int | None = None
    nvlink_crc_data_errors: int | None = None
    nvlink_replay_errors: int | None = None
    nvlink_recovery_errors: int | None = None
    pcie_replay_count: int | None = None
    memory_reserved_bytes: int | None = None
    power_violation_s: float | None = None
    thermal_violation_s: float | None = None
    sync_boost_violation_s: float | None = None
    board_limit_violation_s: float | None = None
    low_util_violation_s: float | None = None
    reliability_violation_s: float | None = None
    pstate: int | None = None
    clock_event_reasons: tuple[str, ...] | None = None
    ecc_corrected_volatile: int | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_corrected_aggregate: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    retired_pages_single_bit: int | None = None
    retired_pages_double_bit: int | None = None
    retired_pages_pending: bool | None = None
    remapped_rows_correctable: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remapped_rows_pending: bool | None = None
    remapped_rows_failure: bool | None = None
    mig_mode: bool | None = None
    vgpu_license_state: int | None = None  # NVML_GRID_LICENSE_STATE_*; None on GPUs without vGPU licensing
    profiling: ProfilingSample = ProfilingSample()
    xid_count: int = 0
    last_xid: int | None = None
    xid_events: tuple[XidEvent, ...] = ()
    processes: tuple[GPUProcess, ...] = ()
    mig_instances: tuple[MIGInstance, ...] = ()  # empty unless MIG mode is on

    @property
    def index(self) -> int:
        return self.info.index

    @property
    def memory_used_pct(self) -> float | None:
        if self.memory_used_bytes is None or not self.memory_total_bytes:
            return None
        return 100.0 * self.memory_used_bytes / self.memory_total_bytes

    @property
    def unresponsive(self) -> bool:
        return self.unresponsive_since is not None


@dataclass(frozen=True, slots=True)
class StorageSample:
    """Usage of one real (non-pseudo, non-duplicate) mounted filesystem."""

    mount_point: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    used_pct: float


@dataclass(frozen=True, slots=True)
class HostSample:
    """The host at one moment. Rates come from counter deltas over the sampler's own interval."""

    hostname: str
    cpu_pct: float | None = None
    cpu_per_core_pct: tuple[float, ...] = ()
    cpu_count: int | None = None
    cpu_frequency_mhz: float | None = None
    load_average: tuple[float, float, float] | None = None
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    memory_available_bytes: int | None = None
    memory_used_pct: float | None = None
    swap_total_bytes: int | None = None
    swap_used_bytes: int | None = None
    swap_used_pct: float | None = None
    network_sent_bytes_per_s: float | None = None
    network_recv_bytes_per_s: float | None = None
    network_sent_bytes_total: int | None = None
    network_recv_bytes_total: int | None = None
    disk_read_bytes_per_s: float | None = None
    disk_write_bytes_per_s: float | None = None
    disk_read_bytes_total: int | None = None
    disk_write_bytes_total: int | None = None
    storage: tuple[StorageSample, ...] = ()
    boot_time: float | None = None


@dataclass(frozen=True, slots=True)
class CollectionCost:
    """What producing one snapshot cost the service, for the health endpoint and ``/metrics``."""

    gpu_seconds: float = 0.0
    host_seconds: float = 0.0
    nvml_calls: int = 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the sampler saw at ``timestamp`` (Unix seconds). ``seq`` increases by one per tick."""

    seq: int
    timestamp: float
    gpu_available: bool
    gpus: tuple[GPUSample, ...]
    host: HostSample
    cost: CollectionCost = field(default_factory=CollectionCost)
    gpu_status: str = "ok"  # why GPUs are unavailable, when they are: "disabled", "nvml_unavailable", ...

    def gpu(self, index: int) -> GPUSample | None:
        for sample in self.gpus:
            if sample.info.index == index:
                return sample
        return None

    @property
    def gpu_ids(self) -> list[int]:
        return [sample.info.index for sample in self.gpus]
