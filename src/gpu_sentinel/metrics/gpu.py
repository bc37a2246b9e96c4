"""Every reading of one GPU: the registry's ``gpu`` scope."""

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
from gpu_sentinel.metrics.xid import xid_labels
from gpu_sentinel.snapshot import GPUSample

GIB = 1024**3
MIB = 1024**2
MB = 1e6
MIB_SCALE = 1 / MIB
GIB_SCALE = 1 / GIB
NANOSECONDS = 1e9

# GB/s per lane by PCIe generation, after line encoding (8b/10b up to gen 2, 128b/130b after).
PCIE_GBPS_PER_LANE = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}

CLOCK_EVENT_REASON_BITS = {
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


def memory_total_bytes(sample: GPUSample) -> int | None:
    if sample.memory_total_bytes is not None:
        return sample.memory_total_bytes
    return sample.info.memory_total_bytes


def _memory_free_bytes(sample: GPUSample) -> int | None:
    total = memory_total_bytes(sample)
    if total is None or sample.memory_used_bytes is None:
        return None
    return max(0, total - sample.memory_used_bytes)


def _memory_used_pct(sample: GPUSample) -> float | None:
    total = memory_total_bytes(sample)
    if sample.memory_used_bytes is None or not total:
        return None
    return 100.0 * sample.memory_used_bytes / total


def _power_limit_pct(sample: GPUSample) -> float | None:
    if sample.power_w is None or not sample.power_limit_w:
        return None
    return 100.0 * sample.power_w / sample.power_limit_w


def _pcie_link_bytes_per_s(sample: GPUSample) -> float | None:
    per_lane = PCIE_GBPS_PER_LANE.get(sample.pcie_generation or 0)
    if per_lane is None or not sample.pcie_width:
        return None
    return per_lane * sample.pcie_width * 1e9


def _nvlink_bytes_per_s(sample: GPUSample) -> float | None:
    if sample.nvlink_tx_bytes_per_s is None or sample.nvlink_rx_bytes_per_s is None:
        return None
    return sample.nvlink_tx_bytes_per_s + sample.nvlink_rx_bytes_per_s


def _clock_event_bitmask(sample: GPUSample) -> int | None:
    if sample.clock_event_reasons is None:
        return None
    mask = 0
    for reason in sample.clock_event_reasons:
        mask |= CLOCK_EVENT_REASON_BITS.get(reason, 0)
    return mask


def _last_xid(sample: GPUSample) -> int | None:
    if sample.last_xid is not None:
        return sample.last_xid
    # dcgm-exporter reads 0 until the first XID, and alert rules written for it compare against that.
    return 0 if sample.xid_count == 0 else None


def _idle_allocated_bytes(sample: GPUSample) -> int | None:
    """Memory held on a GPU that does no work: 0 while it computes, so `> 1 GiB for 15m` finds
    forgotten jobs."""
    util = sample.utilization_gpu_pct
    used = sample.memory_used_bytes
    if util is None or used is None:
        return None
    if util > 0 or not sample.processes:
        return 0
    held = sum(p.gpu_memory_bytes or 0 for p in sample.processes)
    return held or used


def _flag(name: str) -> Reader:
    def read(sample: GPUSample) -> Value:
        value = getattr(sample, name)
        return None if value is None else int(value)

    return read


def _violation(kind: str, label: str, column: str, dcgm: str) -> Metric:
    """One of NVML's cumulative clock-violation timers: stored, alertable and exported alike."""
    key = f"{kind}_violation_s"
    return Metric(
        key=f"gpu.{key}",
        scope="gpu",
        unit="s",
        help=f"Time clocks were held below their target by {label} since the driver loaded",
        label=f"{label.capitalize()} throttling",
        format="seconds",
        read=attr(key),
        history=History(key, column, "s", rollup="last"),
        alert=Alert(f"gpu.{key}", "s"),
        # DCGM 4 reports these in nanoseconds (dcgm-exporter's csv said microseconds before 4.4.2).
        prometheus=Prometheus(dcgm, "counter", "ns", NANOSECONDS, "nearest"),
        api=Api(f"violations.{kind}_s", "s", digits=3),
    )


GPU_METRICS: tuple[Metric, ...] = (
    Metric(
        "gpu.utilization_pct",
        "gpu",
        "%",
        "Share of time a kernel was running on the GPU",
        "GPU utilization",
        "percent",
        attr("utilization_gpu_pct"),
        History("gpu_utilization", "util_gpu", "%", chart=True),
        Alert("gpu.utilization_pct", "%"),
        Prometheus("DCGM_FI_DEV_GPU_UTIL", "gauge", "%"),
        Api("utilization.gpu", "%, 0-100", digits=1),
        thresholds=Thresholds(70, 85),
    ),
    Metric(
        "gpu.memory_utilization_pct",
        "gpu",
        "%",
        "Share of time device memory was being read or written",
        "Memory controller utilization",
        "percent",
        attr("utilization_memory_pct"),
        History("memory_utilization", "util_mem", "%"),
        Alert("gpu.memory_utilization_pct", "%"),
        Prometheus("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "%"),
        Api("utilization.memory", "%, 0-100", digits=1),
    ),
    Metric(
        "gpu.encoder_utilization_pct",
        "gpu",
        "%",
        "Video encoder utilization",
        "Encoder",
        "percent",
        attr("encoder_pct"),
        History("encoder_utilization", "enc", "%"),
        prometheus=Prometheus("DCGM_FI_DEV_ENC_UTIL", "gauge", "%"),
        api=Api("encoder_utilization", "%"),
    ),
    Metric(
        "gpu.decoder_utilization_pct",
        "gpu",
        "%",
        "Video decoder utilization",
        "Decoder",
        "percent",
        attr("decoder_pct"),
        History("decoder_utilization", "dec", "%"),
        prometheus=Prometheus("DCGM_FI_DEV_DEC_UTIL", "gauge", "%"),
        api=Api("decoder_utilization", "%"),
    ),
    Metric(
        "gpu.memory_used_bytes",
        "gpu",
        "B",
        "Framebuffer memory in use",
        "Memory used",
        "bytes",
        attr("memory_used_bytes"),
        History("gpu_memory_used_gb", "mem_used", "GB", GIB_SCALE, "BIGINT", chart=True),
        Alert("gpu.memory_used_gib", "GiB", GIB_SCALE),
        Prometheus("DCGM_FI_DEV_FB_USED", "gauge", "MiB", MIB_SCALE, "floor"),
        Api("memory.used_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "gpu.memory_free_bytes",
        "gpu",
        "B",
        "Framebuffer memory free",
        "Memory free",
        "bytes",
        _memory_free_bytes,
        prometheus=Prometheus("DCGM_FI_DEV_FB_FREE", "gauge", "MiB", MIB_SCALE, "floor"),
        api=Api("memory.free_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "gpu.memory_total_bytes",
        "gpu",
        "B",
        "Total framebuffer memory",
        "Memory total",
        "bytes",
        memory_total_bytes,
        prometheus=Prometheus("DCGM_FI_DEV_FB_TOTAL", "gauge", "MiB", MIB_SCALE, "floor"),
        api=Api("memory.total_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "gpu.memory_reserved_bytes",
        "gpu",
        "B",
        "Framebuffer memory the driver reserves for itself",
        "Memory reserved",
        "bytes",
        attr("memory_reserved_bytes"),
        History("gpu_memory_reserved_gb", "mem_reserved", "GB", GIB_SCALE, "BIGINT"),
        Alert("gpu.memory_reserved_gib", "GiB", GIB_SCALE),
        Prometheus("DCGM_FI_DEV_FB_RESERVED", "gauge", "MiB", MIB_SCALE, "floor"),
        Api("memory.reserved_gb", "GiB", GIB_SCALE, 2),
    ),
    Metric(
        "gpu.memory_used_pct",
        "gpu",
        "%",
        "Framebuffer memory in use as a share of the total",
        "Memory used",
        "percent",
        _memory_used_pct,
        alert=Alert("gpu.memory_used_pct", "%"),
        api=Api("memory.used_percent", "%", digits=1),
        thresholds=Thresholds(90, 95),
    ),
    Metric(
        "gpu.temperature_c",
        "gpu",
        "°C",
        "GPU core temperature",
        "Temperature",
        "celsius",
        attr("temperature_c"),
        History("temperature", "temp", "°C", chart=True),
        Alert("gpu.temperature_c", "°C"),
        Prometheus("DCGM_FI_DEV_GPU_TEMP", "gauge", "C"),
        Api("temperature", "Celsius"),
        thresholds=Thresholds(80, 85),
    ),
    Metric(
        "gpu.memory_temperature_c",
        "gpu",
        "°C",
        "GPU memory (HBM) temperature",
        "Memory temperature",
        "celsius",
        attr("memory_temperature_c"),
        History("memory_temperature", "mem_temp", "°C"),
        Alert("gpu.memory_temperature_c", "°C"),
        Prometheus("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "C"),
        Api("memory_temperature", "Celsius"),
    ),
    Metric(
        "gpu.power_w",
        "gpu",
        "W",
        "Board power draw",
        "Power",
        "watts",
        attr("power_w"),
        History("power_watts", "power", "W", chart=True),
        Alert("gpu.power_w", "W"),
        Prometheus("DCGM_FI_DEV_POWER_USAGE", "gauge", "W"),
        Api("power.current_watts", "W", digits=1),
    ),
    Metric(
        "gpu.power_limit_w",
        "gpu",
        "W",
        "Enforced power limit",
        "Power limit",
        "watts",
        attr("power_limit_w"),
        prometheus=Prometheus("DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "W"),
        api=Api("power.max_watts", "W", digits=1),
    ),
    Metric(
        "gpu.power_limit_pct",
        "gpu",
        "%",
        "Power draw as a share of the power limit",
        "Power of limit",
        "percent",
        _power_limit_pct,
        alert=Alert("gpu.power_limit_pct", "%"),
        api=Api("power.usage_percent", "%", digits=1),
        thresholds=Thresholds(90, 98),
    ),
    Metric(
        "gpu.energy_j",
        "gpu",
        "J",
        "Energy used since the driver loaded",
        "Energy",
        "joules",
        attr("energy_j"),
        prometheus=Prometheus("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "mJ", 1000.0, "nearest"),
        api=Api("power.energy_joules", "J", digits=1),
    ),
    Metric(
        "gpu.fan_speed_pct",
        "gpu",
        "%",
        "Fan speed as a share of its maximum; none on fanless (SXM) boards",
        "Fan",
        "percent",
        attr("fan_speed_pct"),
        History("fan_speed", "fan", "%"),
        Alert("gpu.fan_speed_pct", "%"),
        Prometheus("DCGM_FI_DEV_FAN_SPEED", "gauge", "%"),
        Api("fan_speed", "%"),
    ),
    Metric(
        "gpu.sm_clock_mhz",
        "gpu",
        "MHz",
        "Current SM clock",
        "SM clock",
        "mhz",
        attr("sm_clock_mhz"),
        History("gpu_clock_mhz", "sm_clock", "MHz"),
        Alert("gpu.sm_clock_mhz", "MHz"),
        Prometheus("DCGM_FI_DEV_SM_CLOCK", "gauge", "MHz"),
        Api("clocks.gpu_mhz", "MHz"),
    ),
    Metric(
        "gpu.memory_clock_mhz",
        "gpu",
        "MHz",
        "Current memory clock",
        "Memory clock",
        "mhz",
        attr("memory_clock_mhz"),
        History("memory_clock_mhz", "mem_clock", "MHz"),
        prometheus=Prometheus("DCGM_FI_DEV_MEM_CLOCK", "gauge", "MHz"),
        api=Api("clocks.memory_mhz", "MHz"),
    ),
    Metric(
        "gpu.pcie_tx_bytes_per_s",
        "gpu",
        "B/s",
        "PCIe transmit throughput",
        "PCIe TX",
        "bytes_per_s",
        attr("pcie_tx_bytes_per_s"),
        History("pcie_tx_bytes_per_s", "pcie_tx", "B/s"),
        Alert("gpu.pcie_tx_bytes_per_s", "B/s"),
        Prometheus("DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", "B/s"),
        Api("pcie.tx_mb_per_s", "MB/s", 1 / MB, 2),
        # dcgm-exporter's name for it before 3.3.7: KB/s, typed a counter; kept for dashboards of then.
        also=(Prometheus("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", "counter", "KB/s", 1 / 1024),),
    ),
    Metric(
        "gpu.pcie_rx_bytes_per_s",
        "gpu",
        "B/s",
        "PCIe receive throughput",
        "PCIe RX",
        "bytes_per_s",
        attr("pcie_rx_bytes_per_s"),
        History("pcie_rx_bytes_per_s", "pcie_rx", "B/s"),
        Alert("gpu.pcie_rx_bytes_per_s", "B/s"),
        Prometheus("DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", "B/s"),
        Api("pcie.rx_mb_per_s", "MB/s", 1 / MB, 2),
        # dcgm-exporter's name for it before 3.3.7: KB/s, typed a counter; kept for dashboards of then.
        also=(Prometheus("DCGM_FI_DEV_PCIE_RX_THROUGHPUT", "counter", "KB/s", 1 / 1024),),
    ),
    Metric(
        "gpu.pcie_replay_count",
        "gpu",
        "",
        "PCIe link retries (replays) since the driver loaded",
        "PCIe replays",
        "count",
        attr("pcie_replay_count"),
        History("pcie_replay_count", "pcie_replay", "", sql_type="BIGINT", rollup="last"),
        Alert("gpu.pcie_replay_count", "replays"),
        Prometheus("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "replays"),
        Api("pcie.replay_count", "replays"),
    ),
    Metric(
        "gpu.pcie_link_bytes_per_s",
        "gpu",
        "B/s",
        "PCIe link bandwidth per direction at the current generation and width",
        "PCIe link bandwidth",
        "bytes_per_s",
        _pcie_link_bytes_per_s,
        api=Api("pcie.bandwidth_gbps", "GB/s", 1e-9, 2),
    ),
    Metric(
        "gpu.pcie_generation",
        "gpu",
        "",
        "Current PCIe link generation",
        "PCIe generation",
        "number",
        attr("pcie_generation"),
        prometheus=Prometheus("DCGM_FI_DEV_PCIE_LINK_GEN", "gauge", ""),
        api=Api("pcie.generation", ""),
    ),
    Metric(
        "gpu.pcie_width",
        "gpu",
        "lanes",
        "Current PCIe link width",
        "PCIe width",
        "count",
        attr("pcie_width"),
        prometheus=Prometheus("DCGM_FI_DEV_PCIE_LINK_WIDTH", "gauge", "lanes"),
        api=Api("pcie.width", "lanes"),
    ),
    Metric(
        "gpu.nvlink_tx_bytes_per_s",
        "gpu",
        "B/s",
        "NVLink transmit throughput, all links together",
        "NVLink TX",
        "bytes_per_s",
        attr("nvlink_tx_bytes_per_s"),
        History("nvlink_tx_bytes_per_s", "nvlink_tx", "B/s"),
        Alert("gpu.nvlink_tx_bytes_per_s", "B/s"),
        Prometheus("DCGM_FI_PROF_NVLINK_TX_BYTES", "gauge", "B/s"),
        Api("nvlink.tx_mb_per_s", "MB/s", 1 / MB, 2),
    ),
    Metric(
        "gpu.nvlink_rx_bytes_per_s",
        "gpu",
        "B/s",
        "NVLink receive throughput, all links together",
        "NVLink RX",
        "bytes_per_s",
        attr("nvlink_rx_bytes_per_s"),
        History("nvlink_rx_bytes_per_s", "nvlink_rx", "B/s"),
        Alert("gpu.nvlink_rx_bytes_per_s", "B/s"),
        Prometheus("DCGM_FI_PROF_NVLINK_RX_BYTES", "gauge", "B/s"),
        Api("nvlink.rx_mb_per_s", "MB/s", 1 / MB, 2),
    ),
    Metric(
        "gpu.nvlink_bytes_per_s",
        "gpu",
        "B/s",
        "NVLink throughput, both directions of all links together",
        "NVLink total",
        "bytes_per_s",
        _nvlink_bytes_per_s,
        # dcgm-exporter's default DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL: typed a counter, but DCGM reports
        # a rate in MB/s there (it moves both ways between scrapes), so that is what it carries here too.
        prometheus=Prometheus("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "MB/s", 1 / MB),
    ),
    *(
        Metric(
            f"gpu.nvlink_{kind}_errors",
            "gpu",
            "",
            f"NVLink {what} of all links since the driver loaded",
            f"NVLink {label}",
            "count",
            attr(f"nvlink_{kind}_errors"),
            alert=Alert(f"gpu.nvlink_{kind}_errors", "errors"),
            prometheus=Prometheus(f"DCGM_FI_DEV_NVLINK_{dcgm}_ERROR_COUNT_TOTAL", "counter", "errors"),
            api=Api(f"nvlink.{kind}_errors", "errors"),
        )
        for kind, dcgm, what, label in (
            ("crc_flit", "CRC_FLIT", "flow-control CRC errors", "CRC flit errors"),
            ("crc_data", "CRC_DATA", "data CRC errors", "CRC data errors"),
            ("replay", "REPLAY", "retries (replays)", "replays"),
            ("recovery", "RECOVERY", "link recoveries", "recoveries"),
        )
    ),
    Metric(
        "gpu.pstate",
        "gpu",
        "",
        "Performance state, 0 (max) to 15 (min)",
        "P-state",
        "number",
        attr("pstate"),
        prometheus=Prometheus("DCGM_FI_DEV_PSTATE", "gauge", ""),
        api=Api("pstate", ""),
    ),
    Metric(
        "gpu.clock_event_reasons",
        "gpu",
        "",
        "Why clocks are being held down right now (bitmask of DCGM_CLOCKS_EVENT_REASON_*)",
        "Clock event reasons",
        "bitmask",
        _clock_event_bitmask,
        prometheus=Prometheus("DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "gauge", "bitmask"),
    ),
    _violation("power", "the power limit", "viol_power", "DCGM_FI_DEV_POWER_VIOLATION"),
    _violation("thermal", "temperature", "viol_thermal", "DCGM_FI_DEV_THERMAL_VIOLATION"),
    _violation("sync_boost", "sync boost", "viol_sync_boost", "DCGM_FI_DEV_SYNC_BOOST_VIOLATION"),
    _violation("board_limit", "the board limit", "viol_board_limit", "DCGM_FI_DEV_BOARD_LIMIT_VIOLATION"),
    _violation("low_util", "low utilization", "viol_low_util", "DCGM_FI_DEV_LOW_UTIL_VIOLATION"),
    _violation("reliability", "reliability limits", "viol_reliability", "DCGM_FI_DEV_RELIABILITY_VIOLATION"),
    Metric(
        "gpu.last_xid",
        "gpu",
        "",
        "Code of the last XID error the driver reported (0 before the first)",
        "Last XID",
        "number",
        _last_xid,
        prometheus=Prometheus(
            "DCGM_FI_DEV_XID_ERRORS", "gauge", "xid", labels=("err_code", "err_msg"), labels_of=xid_labels
        ),
    ),
    Metric(
        "gpu.xid_count",
        "gpu",
        "",
        "XID critical errors the driver reported since the service started",
        "XID errors",
        "count",
        attr("xid_count"),
        prometheus=Prometheus("gpu_sentinel_gpu_xid_errors_total", "counter", "errors"),
        api=Api("health.xid_count", "errors"),
    ),
    Metric(
        "gpu.ecc_corrected_volatile",
        "gpu",
        "",
        "Corrected (single-bit) ECC errors since the driver loaded",
        "ECC corrected (volatile)",
        "count",
        attr("ecc_corrected_volatile"),
        alert=Alert("gpu.ecc_corrected_volatile", "errors"),
        prometheus=Prometheus("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "errors"),
        api=Api("health.ecc.corrected_volatile", "errors"),
    ),
    Metric(
        "gpu.ecc_uncorrected_volatile",
        "gpu",
        "",
        "Uncorrected (double-bit) ECC errors since the driver loaded",
        "ECC uncorrected (volatile)",
        "count",
        attr("ecc_uncorrected_volatile"),
        prometheus=Prometheus("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "errors"),
        api=Api("health.ecc.uncorrected_volatile", "errors"),
    ),
    Metric(
        "gpu.ecc_corrected_aggregate",
        "gpu",
        "",
        "Corrected (single-bit) ECC errors over the board's life",
        "ECC corrected (lifetime)",
        "count",
        attr("ecc_corrected_aggregate"),
        prometheus=Prometheus("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "counter", "errors"),
        api=Api("health.ecc.corrected_aggregate", "errors"),
    ),
    Metric(
        "gpu.ecc_uncorrected_aggregate",
        "gpu",
        "",
        "Uncorrected (double-bit) ECC errors over the board's life",
        "ECC uncorrected (lifetime)",
        "count",
        attr("ecc_uncorrected_aggregate"),
        prometheus=Prometheus("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "counter", "errors"),
        api=Api("health.ecc.uncorrected_aggregate", "errors"),
    ),
    Metric(
        "gpu.retired_pages_single_bit",
        "gpu",
        "",
        "Memory pages retired after single-bit errors",
        "Retired pages (SBE)",
        "count",
        attr("retired_pages_single_bit"),
        prometheus=Prometheus("DCGM_FI_DEV_RETIRED_SBE", "counter", "pages"),
        api=Api("health.retired_pages.single_bit", "pages"),
    ),
    Metric(
        "gpu.retired_pages_double_bit",
        "gpu",
        "",
        "Memory pages retired after double-bit errors",
        "Retired pages (DBE)",
        "count",
        attr("retired_pages_double_bit"),
        prometheus=Prometheus("DCGM_FI_DEV_RETIRED_DBE", "counter", "pages"),
        api=Api("health.retired_pages.double_bit", "pages"),
    ),
    Metric(
        "gpu.retired_pages_pending",
        "gpu",
        "",
        "A memory page waits to be retired at the next driver reload",
        "Page retirement pending",
        "flag",
        _flag("retired_pages_pending"),
        prometheus=Prometheus("DCGM_FI_DEV_RETIRED_PENDING", "counter", ""),  # dcgm-exporter's type
    ),
    Metric(
        "gpu.remapped_rows_correctable",
        "gpu",
        "",
        "Memory rows remapped after correctable errors",
        "Remapped rows (correctable)",
        "count",
        attr("remapped_rows_correctable"),
        prometheus=Prometheus("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "rows"),
        api=Api("health.remapped_rows.correctable", "rows"),
    ),
    Metric(
        "gpu.remapped_rows_uncorrectable",
        "gpu",
        "",
        "Memory rows remapped after uncorrectable errors",
        "Remapped rows (uncorrectable)",
        "count",
        attr("remapped_rows_uncorrectable"),
        alert=Alert("gpu.remapped_rows_uncorrectable", "rows"),
        prometheus=Prometheus("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "rows"),
        api=Api("health.remapped_rows.uncorrectable", "rows"),
    ),
    Metric(
        "gpu.remapped_rows_pending",
        "gpu",
        "",
        "A memory row remapping waits for the next GPU reset",
        "Row remap pending",
        "flag",
        _flag("remapped_rows_pending"),
        prometheus=Prometheus("DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge", ""),
    ),
    Metric(
        "gpu.remapped_rows_failure",
        "gpu",
        "",
        "Remapping a memory row has failed",
        "Row remap failed",
        "flag",
        _flag("remapped_rows_failure"),
        prometheus=Prometheus("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", ""),
    ),
    Metric(
        "gpu.mig_mode",
        "gpu",
        "",
        "MIG mode is enabled",
        "MIG mode",
        "flag",
        _flag("mig_mode"),
        prometheus=Prometheus("DCGM_FI_DEV_MIG_MODE", "gauge", ""),
    ),
    Metric(
        "gpu.vgpu_license_state",
        "gpu",
        "",
        "vGPU license state as NVML numbers it (5 licensed; 0-4 unknown, uninitialized or unlicensed); "
        "absent on GPUs without vGPU licensing",
        "vGPU license",
        "number",
        attr("vgpu_license_state"),
        prometheus=Prometheus("DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", ""),
        api=Api("health.vgpu_license_state", ""),
    ),
    Metric(
        "gpu.lost",
        "gpu",
        "",
        "The GPU has fallen off the bus and no longer answers the driver",
        "Lost",
        "flag",
        _flag("lost"),
        alert=Alert("event.gpu_lost", "", event=True),
        prometheus=Prometheus("gpu_sentinel_gpu_lost", "gauge", "", every_gpu=True),
    ),
    Metric(
        "gpu.unresponsive",
        "gpu",
        "",
        "The GPU's driver calls miss their deadline; its readings are missing until it answers again",
        "Unresponsive",
        "flag",
        _flag("unresponsive"),
        alert=Alert("event.gpu_unresponsive", "", event=True),
        prometheus=Prometheus("gpu_sentinel_gpu_unresponsive", "gauge", "", every_gpu=True),
    ),
    Metric(
        "gpu.idle_allocated_bytes",
        "gpu",
        "B",
        "Memory held by processes on a GPU at 0 % utilization (0 while it works)",
        "Allocated while idle",
        "bytes",
        _idle_allocated_bytes,
        alert=Alert("gpu.idle_allocated_gib", "GiB", GIB_SCALE),
    ),
)
