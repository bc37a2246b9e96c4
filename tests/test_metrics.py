"""The metric registry's own rules: one declaration per reading, no name used twice by any consumer, and
conversions that give what a user reads in each place."""

from __future__ import annotations

from collections import Counter

import pytest

from gpu_sentinel import metrics
from gpu_sentinel.snapshot import GPUInfo, GPUSample, HostSample

GIB = 1024**3


def _repeated(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def test_no_key_name_or_column_is_declared_twice() -> None:
    entries = metrics.METRICS
    assert not _repeated([m.key for m in entries])
    assert not _repeated([m.history.name for m in entries if m.history])
    assert not _repeated([m.history.column for m in entries if m.history])
    assert not _repeated([m.alert.name for m in entries if m.alert])
    assert not _repeated([f"{m.scope}:{family.name}" for m in entries for family in m.families])
    assert not _repeated([f"{m.scope}:{m.api.field}" for m in entries if m.api])


def test_a_mig_device_shares_its_gpu_families_with_the_same_type_and_unit() -> None:
    """dcgm-exporter writes a MIG device's series into the GPU's family, told apart by GPU_I_* labels;
    one family name must mean one type and one unit."""
    gpu = {f.name: f for m in metrics.METRICS if m.scope == "gpu" for f in m.families}
    mig = [f for m in metrics.METRICS if m.scope == "mig" for f in m.families]
    assert mig
    for family in mig:
        assert family.name in gpu, family.name
        assert (family.type, family.unit, family.scale) == (
            gpu[family.name].type,
            gpu[family.name].unit,
            gpu[family.name].scale,
        )
    assert {f.name for m in metrics.METRICS if m.scope not in ("gpu", "mig") for f in m.families}.isdisjoint(
        gpu
    )


def test_older_family_names_are_exported_only_beside_a_main_family() -> None:
    """A reading with only ``also`` families would never reach /metrics."""
    assert all(m.prometheus is not None for m in metrics.METRICS if m.also)
    assert all(family.name.startswith("DCGM_FI_") for m in metrics.METRICS for family in m.also)


def test_only_gpu_and_host_readings_are_stored_or_alerted_on() -> None:
    """History tables and the alert engine know those two scopes; anything else would be dropped."""
    assert {m.scope for m in metrics.METRICS if m.history or m.alert} <= {"gpu", "host"}


@pytest.mark.parametrize(
    ("key", "sample", "api", "alert", "exported"),
    [
        (
            "gpu.memory_used_bytes",
            GPUSample(info=GPUInfo(0, "x"), memory_used_bytes=3 * GIB + 5),
            3.0,
            3.0,
            3072,
        ),
        ("gpu.energy_j", GPUSample(info=GPUInfo(0, "x"), energy_j=1.2346), 1.2, None, 1235),
        (
            "gpu.thermal_violation_s",
            GPUSample(info=GPUInfo(0, "x"), thermal_violation_s=0.0125),
            0.013,
            0.0125,
            12_500_000,
        ),
        (
            "host.network_sent_bytes_per_s",
            HostSample("h", network_sent_bytes_per_s=1.25e6),
            10.0,
            1.25e6,
            None,
        ),
        ("host.cpu_pct", HostSample("h", cpu_pct=42.0), 42.0, 42.0, 0.42),
    ],
)
def test_each_consumer_gets_the_reading_in_its_own_unit(
    key: str, sample: object, api: float | None, alert: float | None, exported: float | None
) -> None:
    entry = metrics.metric(key)
    assert entry.api_value(sample) == api
    assert (entry.alert_value(sample) if entry.alert else None) == (
        None if alert is None else pytest.approx(alert)
    )
    assert (entry.prometheus_value(sample) if entry.prometheus else None) == exported


def test_a_missing_reading_stays_missing_everywhere() -> None:
    bare = GPUSample(info=GPUInfo(0, "x"))
    for entry in metrics.METRICS:
        if entry.scope != "gpu" or entry.key in {
            "gpu.lost",
            "gpu.unresponsive",
            "gpu.last_xid",
            "gpu.xid_count",
        }:
            continue
        assert entry.read(bare) in (None, 0), entry.key
        if entry.read(bare) is None:
            assert entry.prometheus is None or entry.prometheus_value(bare) is None
            assert entry.api is None or entry.api_value(bare) is None
