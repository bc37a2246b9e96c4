"""The ``/metrics`` exposition as Prometheus, Grafana's dcgm-exporter dashboard and promtool see it."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.prometheus import SnapshotCollector, render_metrics
from gpu_sentinel.snapshot import (
    CollectionCost,
    GPUInfo,
    GPUProcess,
    GPUSample,
    HostSample,
    MIGInstance,
    ProfilingSample,
    Snapshot,
    StorageSample,
)

GIB = 1024**3
HOSTNAME = "node-7"
DCGM_CAMEL_CASE_LABELS = {"UUID", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION"}
DCGM_MIG_LABELS = {"GPU_I_PROFILE", "GPU_I_ID"}


def gpu_sample(index: int = 0, **changes: Any) -> GPUSample:
    """A busy H100 with every field filled; ``changes`` overrides fields, ``info`` included."""
    info = GPUInfo(
        index=index,
        name="NVIDIA H100 80GB HBM3",
        uuid=f"GPU-0000000{index}-aaaa-bbbb-cccc-dddddddddddd",
        serial="1650923000123",
        pci_bus_id=f"00000000:{0x18 + index:02X}:00.0",
        memory_total_bytes=80 * GIB,
        driver_version="550.54.15",
        cuda_version="12.4",
        compute_capability="9.0",
        gpu_max_mhz=1980,
        memory_max_mhz=2619,
        pcie_max_generation=5,
        pcie_max_width=16,
    )
    sample = GPUSample(
        info=info,
        utilization_gpu_pct=87.0,
        utilization_memory_pct=41.0,
        memory_used_bytes=10 * GIB + 512 * 1024,
        memory_total_bytes=80 * GIB,
        temperature_c=61.0,
        memory_temperature_c=70.0,
        power_w=512.25,
        power_limit_w=700.0,
        energy_j=86_400.5,
        fan_speed_pct=35.0,
        sm_clock_mhz=1980,
        memory_clock_mhz=2619,
        pcie_generation=5,
        pcie_width=16,
        pcie_tx_bytes_per_s=2048 * 1024.0,
        pcie_rx_bytes_per_s=512 * 1024.0,
        encoder_pct=3.0,
        decoder_pct=4.0,
        nvlink_tx_bytes_per_s=3.5e9,
        nvlink_rx_bytes_per_s=1.25e9,
        nvlink_crc_flit_errors=3,
        nvlink_crc_data_errors=1,
        nvlink_replay_errors=8,
        nvlink_recovery_errors=0,
        pcie_replay_count=12,
        memory_reserved_bytes=517 * 1024 * 1024 + 1000,
        power_violation_s=1.5,
        thermal_violation_s=0.25,
        sync_boost_violation_s=0.0,
        board_limit_violation_s=2.000001,
        low_util_violation_s=300.0,
        reliability_violation_s=0.5,
        pstate=0,
        clock_event_reasons=("sw_power_cap",),
        ecc_corrected_volatile=5,
        ecc_uncorrected_volatile=1,
        ecc_corrected_aggregate=50,
        ecc_uncorrected_aggregate=2,
        retired_pages_single_bit=3,
        retired_pages_double_bit=1,
        retired_pages_pending=True,
        remapped_rows_correctable=7,
        remapped_rows_uncorrectable=2,
        remapped_rows_pending=False,
        remapped_rows_failure=False,
        mig_mode=False,
        vgpu_license_state=5,
        profiling=ProfilingSample(
            status="ok",
            graphics_active_pct=90.0,
            sm_active_pct=80.0,
            sm_occupancy_pct=45.0,
            tensor_active_pct=50.0,
            tensor_hmma_active_pct=40.0,
            tensor_imma_active_pct=10.0,
            tensor_dfma_active_pct=0.0,
            dram_active_pct=60.0,
            fp64_active_pct=1.0,
            fp32_active_pct=20.0,
            fp16_active_pct=5.0,
        ),
        processes=(
            GPUProcess(pid=4242, name="python3", kind="compute", gpu_memory_bytes=6 * GIB, user="alice"),
        ),
    )
    return dataclasses.replace(sample, **changes)


def host_sample(**changes: Any) -> HostSample:
    sample = HostSample(
        hostname=HOSTNAME,
        cpu_pct=25.0,
        cpu_per_core_pct=(10.0, 40.0),
        cpu_count=2,
        cpu_frequency_mhz=2400.0,
        load_average=(1.5, 1.25, 0.75),
        memory_total_bytes=64 * GIB,
        memory_used_bytes=20 * GIB,
        memory_available_bytes=40 * GIB,
        memory_used_pct=31.25,
        swap_total_bytes=8 * GIB,
        swap_used_bytes=1 * GIB,
        swap_used_pct=12.5,
        network_sent_bytes_per_s=1000.0,
        network_recv_bytes_per_s=2000.0,
        network_sent_bytes_total=10_000_000,
        network_recv_bytes_total=20_000_000,
        disk_read_bytes_per_s=300.0,
        disk_write_bytes_per_s=400.0,
        disk_read_bytes_total=30_000_000,
        disk_write_bytes_total=40_000_000,
        storage=(
            StorageSample("/", "/dev/nvme0n1p2", "ext4", 500 * GIB, 200 * GIB, 40.0),
            StorageSample("/data", "/dev/md0", "xfs", 4000 * GIB, 1000 * GIB, 25.0),
        ),
        boot_time=1_700_000_000.0,
    )
    return dataclasses.replace(sample, **changes)


def snapshot(gpus: tuple[GPUSample, ...] | None = None, **changes: Any) -> Snapshot:
    snap = Snapshot(
        seq=1234,
        timestamp=1_700_000_123.5,
        gpu_available=True,
        gpus=(gpu_sample(0),) if gpus is None else gpus,
        host=host_sample(),
        cost=CollectionCost(gpu_seconds=0.012, host_seconds=0.003, nvml_calls=40),
    )
    return dataclasses.replace(snap, **changes)


CALL_STATS = {
    "nvmlDeviceGetPowerUsage": CallStats(calls=100, seconds=0.25, errors=0),
    "nvmlDeviceGetMemoryInfo_v2": CallStats(calls=100, seconds=0.5, errors=3),
}


def render(snap: Snapshot | None, call_stats: Mapping[str, CallStats] | None = None) -> str:
    stats = CALL_STATS if call_stats is None else call_stats
    body, _ = render_metrics(SnapshotCollector(lambda: snap, lambda: stats, HOSTNAME))
    return body.decode()


@dataclass
class ParsedSample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass
class ParsedFamily:
    name: str
    help: str
    type: str
    samples: list[ParsedSample] = field(default_factory=list)


LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse(text: str) -> dict[str, ParsedFamily]:
    """The text format read strictly and literally: names exactly as written (a counter without
    ``_total`` stays so), each family one HELP, one TYPE and then its series, never split."""
    families: dict[str, ParsedFamily] = {}
    current: ParsedFamily | None = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families, f"family {name} written twice"
            type_line = lines[i + 1]
            assert type_line.startswith(f"# TYPE {name} "), type_line
            current = families[name] = ParsedFamily(name, help_text, type_line.rsplit(" ", 1)[1])
        elif line.startswith("# TYPE "):
            continue
        else:
            match = SAMPLE.fullmatch(line)
            assert match and current is not None, line
            assert match.group(1) == current.name, f"{match.group(1)} outside its family block"
            labels = {k: _unescape(v) for k, v in LABEL.findall(match.group(2) or "")}
            current.samples.append(ParsedSample(match.group(1), labels, float(match.group(3))))
    return families


def samples(text: str) -> dict[str, list[ParsedSample]]:
    return {name: family.samples for name, family in parse(text).items()}


def value(text: str, name: str, **labels: str) -> float:
    matches = [s.value for s in samples(text).get(name, []) if labels.items() <= s.labels.items()]
    assert len(matches) == 1, f"{name}{labels}: {matches}"
    return float(matches[0])


def names_for_gpu(text: str, gpu: str) -> set[str]:
    return {name for name, series in samples(text).items() for s in series if s.labels.get("gpu") == gpu}


def test_exposition_parses_with_help_on_every_family() -> None:
    body, content_type = render_metrics(
        SnapshotCollector(lambda: snapshot((gpu_sample(0), gpu_sample(1))), lambda: CALL_STATS, HOSTNAME)
    )

    families = parse(body.decode())

    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert len(families) > 50
    assert all(family.help and family.samples for family in families.values())
    assert len(list(text_string_to_metric_families(body.decode()))) == len(families)


# dcgm-exporter's name, type, unit and the value it reports for ``gpu_sample()``: types follow its
# etc/default-counters.csv and dcp-metrics-included.csv (counters without a `_total` suffix), values are
# MiB from bytes, mJ from J, KB/s and MB/s from bytes/s and nanoseconds from seconds.
DCGM_EXPORT: list[tuple[str, str, str, float]] = [
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "%", 87),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "%", 41),
    ("DCGM_FI_DEV_ENC_UTIL", "gauge", "%", 3),
    ("DCGM_FI_DEV_DEC_UTIL", "gauge", "%", 4),
    ("DCGM_FI_DEV_FB_USED", "gauge", "MiB", 10240),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "MiB", 71679),
    ("DCGM_FI_DEV_FB_TOTAL", "gauge", "MiB", 81920),
    ("DCGM_FI_DEV_FB_RESERVED", "gauge", "MiB", 517),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "C", 61),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "C", 70),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "W", 512.25),
    ("DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "W", 700),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "mJ", 86_400_500),
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "MHz", 1980),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "MHz", 2619),
    ("DCGM_FI_DEV_FAN_SPEED", "gauge", "%", 35),
    ("DCGM_FI_DEV_PSTATE", "gauge", "", 0),
    ("DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", "B/s", 2048 * 1024),
    ("DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", "B/s", 512 * 1024),
    ("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", "counter", "KB/s", 2048),
    ("DCGM_FI_DEV_PCIE_RX_THROUGHPUT", "counter", "KB/s", 512),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "replays", 12),
    ("DCGM_FI_DEV_PCIE_LINK_GEN", "gauge", "", 5),
    ("DCGM_FI_DEV_PCIE_LINK_WIDTH", "gauge", "lanes", 16),
    ("DCGM_FI_PROF_NVLINK_TX_BYTES", "gauge", "B/s", 3.5e9),
    ("DCGM_FI_PROF_NVLINK_RX_BYTES", "gauge", "B/s", 1.25e9),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "ratio", 0.9),
    ("DCGM_FI_PROF_SM_ACTIVE", "gauge", "ratio", 0.8),
    ("DCGM_FI_PROF_SM_OCCUPANCY", "gauge", "ratio", 0.45),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "ratio", 0.5),
    ("DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", "gauge", "ratio", 0.4),
    ("DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", "gauge", "ratio", 0.1),
    ("DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE", "gauge", "ratio", 0.0),
    ("DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "ratio", 0.6),
    ("DCGM_FI_PROF_PIPE_FP64_ACTIVE", "gauge", "ratio", 0.01),
    ("DCGM_FI_PROF_PIPE_FP32_ACTIVE", "gauge", "ratio", 0.2),
    ("DCGM_FI_PROF_PIPE_FP16_ACTIVE", "gauge", "ratio", 0.05),
    ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "MB/s", 4750),
    ("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "counter", "errors", 3),
    ("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "counter", "errors", 1),
    ("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "counter", "errors", 8),
    ("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "counter", "errors", 0),
    ("DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "", 5),
    ("DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "gauge", "bitmask", 4),
    ("DCGM_FI_DEV_POWER_VIOLATION", "counter", "ns", 1_500_000_000),
    ("DCGM_FI_DEV_THERMAL_VIOLATION", "counter", "ns", 250_000_000),
    ("DCGM_FI_DEV_SYNC_BOOST_VIOLATION", "counter", "ns", 0),
    ("DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", "counter", "ns", 2_000_001_000),
    ("DCGM_FI_DEV_LOW_UTIL_VIOLATION", "counter", "ns", 300_000_000_000),
    ("DCGM_FI_DEV_RELIABILITY_VIOLATION", "counter", "ns", 500_000_000),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "xid", 0),
    ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "errors", 5),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "errors", 1),
    ("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "counter", "errors", 50),
    ("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "counter", "errors", 2),
    ("DCGM_FI_DEV_RETIRED_SBE", "counter", "pages", 3),
    ("DCGM_FI_DEV_RETIRED_DBE", "counter", "pages", 1),
    ("DCGM_FI_DEV_RETIRED_PENDING", "counter", "", 1),
    ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "rows", 7),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "rows", 2),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "", 0),
    ("DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge", "", 0),
    ("DCGM_FI_DEV_MIG_MODE", "gauge", "", 0),
]
# Labels dcgm-exporter adds to one family only, after its common ones.
OWN_LABELS = {"DCGM_FI_DEV_XID_ERRORS": {"err_code": "0", "err_msg": "No Error"}}
DCGM_LABEL_VALUES = {
    "gpu": "0",
    "UUID": "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd",
    "pci_bus_id": "00000000:18:00.0",
    "device": "nvidia0",
    "modelName": "NVIDIA H100 80GB HBM3",
    "Hostname": HOSTNAME,
    "DCGM_FI_DRIVER_VERSION": "550.54.15",
}


@pytest.mark.parametrize(
    ("name", "kind", "unit", "expected"), DCGM_EXPORT, ids=[row[0] for row in DCGM_EXPORT]
)
def test_gpu_series_read_as_dcgm_exporter_reports_them(
    name: str, kind: str, unit: str, expected: float
) -> None:
    """The numbers, types and units dashboard 12239 and dcgm-exporter's alert rules were written for."""
    family = parse(render(snapshot()))[name]

    assert family.type == kind
    if unit:
        assert family.help.endswith(f"(in {unit}).")
    (series,) = family.samples
    assert series.name == name
    assert series.value == expected
    assert series.labels == DCGM_LABEL_VALUES | OWN_LABELS.get(name, {})


# Every field dcgm-exporter's etc/default-counters.csv enables (4.5.x), with its type. DCGM_FI_DRIVER_VERSION
# is a label there and here.
DCGM_DEFAULT_COUNTERS = {
    "DCGM_FI_DEV_SM_CLOCK": "gauge",
    "DCGM_FI_DEV_MEM_CLOCK": "gauge",
    "DCGM_FI_DEV_MEMORY_TEMP": "gauge",
    "DCGM_FI_DEV_GPU_TEMP": "gauge",
    "DCGM_FI_DEV_POWER_USAGE": "gauge",
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": "counter",
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER": "counter",
    "DCGM_FI_DEV_GPU_UTIL": "gauge",
    "DCGM_FI_DEV_MEM_COPY_UTIL": "gauge",
    "DCGM_FI_DEV_ENC_UTIL": "gauge",
    "DCGM_FI_DEV_DEC_UTIL": "gauge",
    "DCGM_FI_DEV_XID_ERRORS": "gauge",
    "DCGM_FI_DEV_FB_FREE": "gauge",
    "DCGM_FI_DEV_FB_USED": "gauge",
    "DCGM_FI_DEV_FB_RESERVED": "gauge",
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL": "counter",
    "DCGM_FI_DEV_VGPU_LICENSE_STATUS": "gauge",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": "counter",
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS": "counter",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": "gauge",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": "gauge",
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": "gauge",
    "DCGM_FI_PROF_DRAM_ACTIVE": "gauge",
    "DCGM_FI_PROF_PCIE_TX_BYTES": "gauge",
    "DCGM_FI_PROF_PCIE_RX_BYTES": "gauge",
}
# Default fields not exported yet, and why. A field that appears in /metrics fails the test below until it
# leaves this list, so the list stays true.
DCGM_DEFAULTS_NOT_EXPORTED: dict[str, str] = {}


def test_every_default_dcgm_exporter_field_nvml_supplies_is_exported_with_its_type() -> None:
    families = parse(render(snapshot()))

    wrong = {
        name: families[name].type if name in families else "missing"
        for name, kind in DCGM_DEFAULT_COUNTERS.items()
        if name not in DCGM_DEFAULTS_NOT_EXPORTED and (name not in families or families[name].type != kind)
    }
    assert not wrong, f"default dcgm-exporter fields missing or of another type: {wrong}"
    now_exported = set(DCGM_DEFAULTS_NOT_EXPORTED) & set(families)
    assert not now_exported, f"exported now, so take them out of DCGM_DEFAULTS_NOT_EXPORTED: {now_exported}"
    assert all(
        s.labels["DCGM_FI_DRIVER_VERSION"] == "550.54.15" for s in families["DCGM_FI_DEV_GPU_UTIL"].samples
    )


def test_a_fully_read_gpu_exports_exactly_the_dcgm_families_and_ours() -> None:
    """Nothing renamed, nothing lost, nothing new without a line above."""
    families = parse(render(snapshot()))

    gpu_families = {name for name, family in families.items() if family.samples[0].labels.get("gpu") == "0"}

    assert gpu_families == {row[0] for row in DCGM_EXPORT} | {
        "gpu_sentinel_gpu_xid_errors_total",
        "gpu_sentinel_gpu_lost",
        "gpu_sentinel_gpu_unresponsive",
        "gpu_sentinel_gpu_info",
        "gpu_sentinel_gpu_process_memory_bytes",
    }
    assert families["gpu_sentinel_gpu_xid_errors_total"].type == "counter"


def test_counters_keep_dcgm_names_without_a_total_suffix() -> None:
    text = render(snapshot())

    assert "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n" in text
    assert "\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{" in text
    assert "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_total" not in text
    assert "\nDCGM_FI_DEV_ECC_DBE_VOL_TOTAL{" in text


def test_unresponsive_gpu_is_flagged_and_exports_no_stale_readings() -> None:
    bare = GPUSample(info=gpu_sample(1).info, unresponsive_since=1_700_000_100.0)
    text = render(snapshot((gpu_sample(0), bare)))

    assert value(text, "gpu_sentinel_gpu_unresponsive", gpu="1") == 1
    assert value(text, "gpu_sentinel_gpu_unresponsive", gpu="0") == 0
    assert value(text, "gpu_sentinel_gpu_lost", gpu="1") == 0
    # Total memory is a fact of the board (read once), so it stays; every live reading is gone.
    assert names_for_gpu(text, "1") == {
        "DCGM_FI_DEV_FB_TOTAL",
        "DCGM_FI_DEV_XID_ERRORS",
        "gpu_sentinel_gpu_xid_errors_total",
        "gpu_sentinel_gpu_lost",
        "gpu_sentinel_gpu_unresponsive",
        "gpu_sentinel_gpu_info",
    }
    labels = samples(text)["gpu_sentinel_gpu_unresponsive"][0].labels
    assert set(labels) == set(DCGM_LABEL_VALUES)


@pytest.mark.parametrize(
    ("reasons", "bitmask"),
    [
        ((), 0),
        (("gpu_idle",), 0x1),
        (("sw_power_cap", "hw_slowdown"), 0x4 | 0x8),
        (("sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"), 0x20 | 0x40 | 0x80),
        (
            (
                "gpu_idle",
                "applications_clocks_setting",
                "sw_power_cap",
                "hw_slowdown",
                "sync_boost",
                "sw_thermal_slowdown",
                "hw_thermal_slowdown",
                "hw_power_brake_slowdown",
                "display_clock_setting",
            ),
            0x1FF,
        ),
    ],
)
def test_clock_event_reasons_map_back_to_nvml_bits(reasons: tuple[str, ...], bitmask: int) -> None:
    text = render(snapshot((gpu_sample(0, clock_event_reasons=reasons),)))

    assert value(text, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", gpu="0") == bitmask


def test_missing_readings_produce_no_series_rather_than_zero() -> None:
    bare = GPUSample(info=GPUInfo(index=1, name="Tesla T4"))
    text = render(snapshot((gpu_sample(0), bare)))

    assert names_for_gpu(text, "1") == {
        "DCGM_FI_DEV_XID_ERRORS",
        "gpu_sentinel_gpu_xid_errors_total",
        "gpu_sentinel_gpu_lost",
        "gpu_sentinel_gpu_unresponsive",
        "gpu_sentinel_gpu_info",
    }
    assert value(text, "DCGM_FI_DEV_XID_ERRORS", gpu="1") == 0
    series = samples(text)["DCGM_FI_DEV_GPU_UTIL"][0]
    assert series.labels["gpu"] == "0"


def test_one_unsupported_field_drops_only_that_series() -> None:
    text = render(snapshot((gpu_sample(0, memory_temperature_c=None, fan_speed_pct=None),)))

    assert "DCGM_FI_DEV_MEMORY_TEMP" not in samples(text)
    assert "DCGM_FI_DEV_FAN_SPEED" not in samples(text)
    assert value(text, "DCGM_FI_DEV_GPU_TEMP", gpu="0") == 61


def test_lost_gpu_reports_lost_and_no_readings() -> None:
    lost = gpu_sample(1, lost=True, power_w=99.0)
    text = render(snapshot((gpu_sample(0), lost)))

    assert value(text, "gpu_sentinel_gpu_lost", gpu="1") == 1
    assert value(text, "gpu_sentinel_gpu_lost", gpu="0") == 0
    assert names_for_gpu(text, "1") == {
        "gpu_sentinel_gpu_lost",
        "gpu_sentinel_gpu_unresponsive",
        "gpu_sentinel_gpu_info",
    }
    assert value(text, "gpu_sentinel_gpu_info", gpu="1", modelName="NVIDIA H100 80GB HBM3") == 1


def test_xid_reports_last_code_and_count() -> None:
    text = render(snapshot((gpu_sample(0, xid_count=3, last_xid=79), gpu_sample(1))))

    assert value(text, "DCGM_FI_DEV_XID_ERRORS", gpu="0") == 79
    assert value(text, "gpu_sentinel_gpu_xid_errors_total", gpu="0") == 3
    assert value(text, "DCGM_FI_DEV_XID_ERRORS", gpu="1") == 0
    assert value(text, "gpu_sentinel_gpu_xid_errors_total", gpu="1") == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (13, "Graphics Engine Exception"),
        (31, "GPU memory page fault"),
        (43, "GPU stopped processing"),
        (48, "Double Bit ECC Error"),
        (63, "ECC page retirement or row remapping recording event"),
        (64, "ECC page retirement or row remapper recording failure"),
        (74, "NVLINK Error"),
        (79, "GPU has fallen off the bus"),
        (92, "High single-bit ECC error rate"),
        (94, "Contained ECC error"),
        (95, "Uncontained ECC error"),
        (119, "GSP RPC Timeout"),
        (120, "GSP Error"),
        (999, "Unknown Error"),
    ],
)
def test_xid_series_names_the_error_as_dcgm_exporter_does(code: int, message: str) -> None:
    """Alert rules written for dcgm-exporter select on ``err_code`` or match ``err_msg``; the count of our
    own family stays unlabelled so that its rate never splits across codes."""
    text = render(snapshot((gpu_sample(0, xid_count=2, last_xid=code),)))

    (series,) = samples(text)["DCGM_FI_DEV_XID_ERRORS"]
    assert series.value == code
    assert series.labels == DCGM_LABEL_VALUES | {"err_code": str(code), "err_msg": message}
    assert f',err_code="{code}",err_msg="{message}"}} {float(code)!r}\n' in text
    (count,) = samples(text)["gpu_sentinel_gpu_xid_errors_total"]
    assert count.value == 2 and "err_code" not in count.labels


def test_gpu_info_carries_versions_and_compute_capability() -> None:
    (info,) = samples(render(snapshot()))["gpu_sentinel_gpu_info"]

    assert info.value == 1
    assert info.labels["driver_version"] == "550.54.15"
    assert info.labels["cuda_version"] == "12.4"
    assert info.labels["compute_capability"] == "9.0"


def test_process_memory_series_per_process() -> None:
    processes = (
        GPUProcess(pid=10, name="trainer", kind="compute", gpu_memory_bytes=4 * GIB, user="bob"),
        GPUProcess(pid=10, name="trainer", kind="graphics", gpu_memory_bytes=4 * GIB, user="bob"),
        GPUProcess(pid=11, name="Xorg", kind="graphics", gpu_memory_bytes=None, user="root"),
        GPUProcess(pid=12, name="ghost", kind="compute", gpu_memory_bytes=GIB, user=None),
    )
    text = render(snapshot((gpu_sample(0, processes=processes),)))

    series = {s.labels["pid"]: s for s in samples(text)["gpu_sentinel_gpu_process_memory_bytes"]}

    assert set(series) == {"10", "12"}
    assert series["10"].value == 4 * GIB
    assert series["10"].labels == {
        "gpu": "0",
        "UUID": "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd",
        "pid": "10",
        "process_name": "trainer",
        "user": "bob",
        "Hostname": HOSTNAME,
    }
    assert series["12"].labels["user"] == ""


def test_label_values_with_quotes_backslashes_and_newlines_are_escaped() -> None:
    name = 'we"ird\\proc\nname'
    process = GPUProcess(pid=7, name=name, kind="compute", gpu_memory_bytes=GIB, user="al\\ice")
    text = render(snapshot((gpu_sample(0, processes=(process,)),)))

    assert 'process_name="we\\"ird\\\\proc\\nname"' in text
    (series,) = samples(text)["gpu_sentinel_gpu_process_memory_bytes"]
    assert series.labels["process_name"] == name
    assert series.labels["user"] == "al\\ice"


def test_host_metrics_use_base_units() -> None:
    text = render(snapshot())

    assert value(text, "gpu_sentinel_host_cpu_utilization_ratio") == 0.25
    assert value(text, "gpu_sentinel_host_cpu_core_utilization_ratio", core="0") == 0.1
    assert value(text, "gpu_sentinel_host_cpu_core_utilization_ratio", core="1") == 0.4
    assert value(text, "gpu_sentinel_host_cpus") == 2
    assert value(text, "gpu_sentinel_host_cpu_frequency_hertz") == 2.4e9
    assert value(text, "gpu_sentinel_host_load1") == 1.5
    assert value(text, "gpu_sentinel_host_load5") == 1.25
    assert value(text, "gpu_sentinel_host_load15") == 0.75
    assert value(text, "gpu_sentinel_host_memory_total_bytes") == 64 * GIB
    assert value(text, "gpu_sentinel_host_memory_used_bytes") == 20 * GIB
    assert value(text, "gpu_sentinel_host_memory_available_bytes") == 40 * GIB
    assert value(text, "gpu_sentinel_host_swap_total_bytes") == 8 * GIB
    assert value(text, "gpu_sentinel_host_swap_used_bytes") == 1 * GIB
    assert value(text, "gpu_sentinel_host_boot_time_seconds") == 1_700_000_000
    assert value(text, "gpu_sentinel_host_filesystem_size_bytes", mountpoint="/data") == 4000 * GIB
    root = {"mountpoint": "/", "device": "/dev/nvme0n1p2", "fstype": "ext4"}
    assert value(text, "gpu_sentinel_host_filesystem_used_bytes", **root) == 200 * GIB
    assert value(text, "gpu_sentinel_host_filesystem_used_bytes", fstype="xfs") == 1000 * GIB
    host = [
        s for name, found in samples(text).items() if name.startswith("gpu_sentinel_host_") for s in found
    ]
    assert all(s.labels["Hostname"] == HOSTNAME for s in host)


def test_host_byte_counters_are_prometheus_counters() -> None:
    text = render(snapshot())
    families = parse(text)

    for name, expected in [
        ("gpu_sentinel_host_network_sent_bytes_total", 10_000_000),
        ("gpu_sentinel_host_network_received_bytes_total", 20_000_000),
        ("gpu_sentinel_host_disk_read_bytes_total", 30_000_000),
        ("gpu_sentinel_host_disk_written_bytes_total", 40_000_000),
    ]:
        assert families[name].type == "counter"
        assert value(text, name) == expected


def test_host_without_readings_has_no_host_series() -> None:
    text = render(snapshot(host=HostSample(hostname=HOSTNAME)))

    assert not [name for name in samples(text) if name.startswith("gpu_sentinel_host_")]


def test_service_metrics() -> None:
    text = render(snapshot())

    assert value(text, "gpu_sentinel_sampler_last_sample_timestamp_seconds") == 1_700_000_123.5
    assert value(text, "gpu_sentinel_sampler_samples_total") == 1234
    assert value(text, "gpu_sentinel_collection_duration_seconds", source="gpu") == 0.012
    assert value(text, "gpu_sentinel_collection_duration_seconds", source="host") == 0.003
    assert value(text, "gpu_sentinel_gpu_available") == 1
    function = "nvmlDeviceGetMemoryInfo_v2"
    assert value(text, "gpu_sentinel_nvml_calls_total", function=function) == 100
    assert value(text, "gpu_sentinel_nvml_call_errors_total", function=function) == 3
    assert value(text, "gpu_sentinel_nvml_call_seconds_total", function=function) == 0.5


def test_before_the_first_sample_only_call_costs_are_exported() -> None:
    text = render(None)

    assert set(samples(text)) == {
        "gpu_sentinel_nvml_calls_total",
        "gpu_sentinel_nvml_call_errors_total",
        "gpu_sentinel_nvml_call_seconds_total",
    }
    assert render(None, call_stats={}) == ""


def test_without_gpus_host_and_service_metrics_remain() -> None:
    text = render(snapshot((), gpu_available=False, gpu_status="nvml_unavailable"), call_stats={})
    names = set(samples(text))

    assert value(text, "gpu_sentinel_gpu_available") == 0
    assert not {name for name in names if name.startswith("DCGM_")}
    assert {name for name in names if name.startswith("gpu_sentinel_gpu_")} == {"gpu_sentinel_gpu_available"}
    assert value(text, "gpu_sentinel_host_cpu_utilization_ratio") == 0.25


def test_every_scrape_reads_the_latest_snapshot() -> None:
    latest: list[Snapshot | None] = [snapshot((gpu_sample(0), gpu_sample(1)))]
    collector = SnapshotCollector(lambda: latest[0], dict, HOSTNAME)

    first = render_metrics(collector)[0].decode()
    latest[0] = snapshot((gpu_sample(0, power_w=100.0),), seq=1235)
    second = render_metrics(collector)[0].decode()

    assert names_for_gpu(first, "1")
    assert not names_for_gpu(second, "1")
    assert value(second, "DCGM_FI_DEV_POWER_USAGE", gpu="0") == 100
    assert value(second, "gpu_sentinel_sampler_samples_total") == 1235


def test_exposition_holds_only_this_collector() -> None:
    """prometheus_client's global registry (process and platform collectors) stays out of ``/metrics``."""
    names = set(samples(render(None)))

    assert not {name for name in names if name.startswith(("python_", "process_"))}


PROMTOOL_CAMEL_CASE_LABEL = "label names should be written in 'snake_case' not 'camelCase'"
PROMTOOL_COUNTER_SUFFIX = 'counter metrics should have "_total" suffix'
PROMTOOL_TYPE_IN_NAME = "metric name should not include type 'counter'"


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is not installed (Debian package 'prometheus')")
        pytest.skip("promtool is not installed (Debian package 'prometheus')")
    return path


@pytest.mark.real_component
def test_promtool_accepts_the_exposition() -> None:
    """Only what dcgm-exporter itself does, kept for dashboard compatibility, may be linted: its
    camelCase labels and its counters without a `_total` suffix."""
    promtool = _promtool()
    processes = (GPUProcess(pid=1, name='a "quoted" \\name', kind="compute", gpu_memory_bytes=GIB, user="u"),)
    snap = snapshot(
        (
            gpu_sample(0, processes=processes, xid_count=1, last_xid=48),
            gpu_sample(1, clock_event_reasons=()),
            gpu_sample(2, lost=True),
            gpu_sample(
                3,
                mig_mode=True,
                utilization_gpu_pct=None,
                mig_instances=tuple(
                    MIGInstance(
                        index=k,
                        uuid=f"MIG-{k}",
                        profile="1g.10gb",
                        gpu_instance_id=k + 7,
                        compute_instance_id=0,
                        memory_used_bytes=GIB,
                        memory_total_bytes=10 * GIB,
                        profiling=ProfilingSample(status="ok", sm_active_pct=40.0 + k),
                    )
                    for k in range(2)
                ),
            ),
        )
    )
    text = render(snap)
    assert 'GPU_I_PROFILE="1g.10gb",GPU_I_ID="8"} 0.41' in text

    result = subprocess.run(
        [promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60, check=False
    )

    assert result.returncode in (0, 3), result.stderr.decode()
    series = [s for found in samples(text).values() for s in found]
    dcgm_labelled = {s.name for s in series if DCGM_CAMEL_CASE_LABELS & s.labels.keys()}
    problems = [line.partition(" ") for line in result.stderr.decode().splitlines() if line.strip()]
    dcgm_counters = {name for name, kind, _, _ in DCGM_EXPORT if kind == "counter"}
    allowed = (
        {(name, PROMTOOL_CAMEL_CASE_LABEL) for name in dcgm_labelled}
        | {(name, PROMTOOL_COUNTER_SUFFIX) for name in dcgm_counters}
        | {("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", PROMTOOL_TYPE_IN_NAME)}
    )
    unexpected = [
        f"{metric} {message}" for metric, _, message in problems if (metric, message) not in allowed
    ]
    assert not unexpected, "\n".join(unexpected)
    own_labels = {label for s in series for label in s.labels} - DCGM_CAMEL_CASE_LABELS - DCGM_MIG_LABELS
    assert all(re.fullmatch(r"[a-z_]+", label) for label in own_labels), own_labels
