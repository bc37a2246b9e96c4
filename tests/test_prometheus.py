"""The ``/metrics`` exposition as Prometheus, Grafana's dcgm-exporter dashboard and promtool see it."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.prometheus import GPU_METRICS, SnapshotCollector, render_metrics
from gpu_sentinel.snapshot import (
    CollectionCost,
    GPUInfo,
    GPUProcess,
    GPUSample,
    HostSample,
    Snapshot,
    StorageSample,
)

GIB = 1024**3
HOSTNAME = "node-7"
DCGM_CAMEL_CASE_LABELS = {"UUID", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION"}


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


def samples(text: str) -> dict[str, list[Sample]]:
    """Series by the name a PromQL query would use (counters with their ``_total``)."""
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


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

    families = list(text_string_to_metric_families(body.decode()))

    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert len(families) > 50
    assert all(family.documentation for family in families)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DCGM_FI_DEV_GPU_UTIL", 87),
        ("DCGM_FI_DEV_MEM_COPY_UTIL", 41),
        ("DCGM_FI_DEV_ENC_UTIL", 3),
        ("DCGM_FI_DEV_DEC_UTIL", 4),
        ("DCGM_FI_DEV_FB_USED", 10240),
        ("DCGM_FI_DEV_FB_FREE", 71679),
        ("DCGM_FI_DEV_FB_TOTAL", 81920),
        ("DCGM_FI_DEV_GPU_TEMP", 61),
        ("DCGM_FI_DEV_MEMORY_TEMP", 70),
        ("DCGM_FI_DEV_POWER_USAGE", 512.25),
        ("DCGM_FI_DEV_POWER_MGMT_LIMIT", 700),
        ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 86_400_500),
        ("DCGM_FI_DEV_SM_CLOCK", 1980),
        ("DCGM_FI_DEV_MEM_CLOCK", 2619),
        ("DCGM_FI_DEV_FAN_SPEED", 35),
        ("DCGM_FI_DEV_PSTATE", 0),
        ("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", 2048),
        ("DCGM_FI_DEV_PCIE_RX_THROUGHPUT", 512),
        ("DCGM_FI_DEV_PCIE_LINK_GEN", 5),
        ("DCGM_FI_DEV_PCIE_LINK_WIDTH", 16),
        ("DCGM_FI_DEV_CLOCKS_EVENT_REASONS", 4),
        ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", 5),
        ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", 1),
        ("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", 50),
        ("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", 2),
        ("DCGM_FI_DEV_RETIRED_SBE", 3),
        ("DCGM_FI_DEV_RETIRED_DBE", 1),
        ("DCGM_FI_DEV_RETIRED_PENDING", 1),
        ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", 7),
        ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", 2),
        ("DCGM_FI_DEV_ROW_REMAP_FAILURE", 0),
        ("DCGM_FI_DEV_ROW_REMAP_PENDING", 0),
        ("DCGM_FI_DEV_MIG_MODE", 0),
    ],
)
def test_gpu_series_read_as_dcgm_exporter_reports_them(name: str, expected: float) -> None:
    """MiB from bytes, W, mJ from J, KB/s from bytes/s: the numbers dashboard 12239 was drawn for."""
    (series,) = samples(render(snapshot()))[name]

    assert series.value == expected
    assert series.labels == {
        "gpu": "0",
        "UUID": "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd",
        "pci_bus_id": "00000000:18:00.0",
        "device": "nvidia0",
        "modelName": "NVIDIA H100 80GB HBM3",
        "Hostname": HOSTNAME,
        "DCGM_FI_DRIVER_VERSION": "550.54.15",
    }


def test_dcgm_names_keep_their_exact_spelling_and_are_gauges() -> None:
    families = {f.name: f for f in text_string_to_metric_families(render(snapshot()))}

    dcgm = {name for name in families if name.startswith("DCGM_")}

    assert dcgm == {spec.name for spec in GPU_METRICS if spec.name.startswith("DCGM_")}
    assert all(families[name].type == "gauge" for name in dcgm)


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
    assert names_for_gpu(text, "1") == {"gpu_sentinel_gpu_lost", "gpu_sentinel_gpu_info"}
    assert value(text, "gpu_sentinel_gpu_info", gpu="1", modelName="NVIDIA H100 80GB HBM3") == 1


def test_xid_reports_last_code_and_count() -> None:
    text = render(snapshot((gpu_sample(0, xid_count=3, last_xid=79), gpu_sample(1))))

    assert value(text, "DCGM_FI_DEV_XID_ERRORS", gpu="0") == 79
    assert value(text, "gpu_sentinel_gpu_xid_errors_total", gpu="0") == 3
    assert value(text, "DCGM_FI_DEV_XID_ERRORS", gpu="1") == 0
    assert value(text, "gpu_sentinel_gpu_xid_errors_total", gpu="1") == 0


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
    types = {f.name: f.type for f in text_string_to_metric_families(text)}

    for name, expected in [
        ("gpu_sentinel_host_network_sent_bytes", 10_000_000),
        ("gpu_sentinel_host_network_received_bytes", 20_000_000),
        ("gpu_sentinel_host_disk_read_bytes", 30_000_000),
        ("gpu_sentinel_host_disk_written_bytes", 40_000_000),
    ]:
        assert types[name] == "counter"
        assert value(text, f"{name}_total") == expected


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


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is not installed (Debian package 'prometheus')")
        pytest.skip("promtool is not installed (Debian package 'prometheus')")
    return path


@pytest.mark.real_component
def test_promtool_accepts_the_exposition() -> None:
    """Only dcgm-exporter's own camelCase labels, kept for dashboard compatibility, may be linted."""
    promtool = _promtool()
    processes = (GPUProcess(pid=1, name='a "quoted" \\name', kind="compute", gpu_memory_bytes=GIB, user="u"),)
    snap = snapshot(
        (
            gpu_sample(0, processes=processes, xid_count=1, last_xid=48),
            gpu_sample(1, clock_event_reasons=()),
            gpu_sample(2, lost=True),
        )
    )
    text = render(snap)

    result = subprocess.run(
        [promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60, check=False
    )

    assert result.returncode in (0, 3), result.stderr.decode()
    series = [s for found in samples(text).values() for s in found]
    dcgm_labelled = {s.name for s in series if DCGM_CAMEL_CASE_LABELS & s.labels.keys()}
    problems = [line.partition(" ") for line in result.stderr.decode().splitlines() if line.strip()]
    unexpected = [
        f"{metric} {message}"
        for metric, _, message in problems
        if metric not in dcgm_labelled or message != PROMTOOL_CAMEL_CASE_LABEL
    ]
    assert not unexpected, "\n".join(unexpected)
    own_labels = {label for s in series for label in s.labels} - DCGM_CAMEL_CASE_LABELS
    assert all(re.fullmatch(r"[a-z_]+", label) for label in own_labels), own_labels
