"""A data disk already full at first start: the node id cannot be kept, so the node runs under an id
derived from the machine (the same one every time), says so once, and its service still samples and
serves live metrics. The disk is a real small tmpfs (see ``test_full_disk``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.node import NODE_ID_FILE, derived_id, load_node_identity
from gpu_sentinel.service import Service
from tests.store.test_full_disk import fill, small_disk

__all__ = ["small_disk"]


def test_a_full_disk_gets_a_stable_id_derived_from_the_machine(
    small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = small_disk / "data"
    data_dir.mkdir()
    fill(small_disk)
    machine = tmp_path / "machine-id"
    machine.write_text("0123456789abcdef0123456789abcdef\n")
    with caplog.at_level(logging.WARNING, logger="gpu_sentinel.node"):
        first = load_node_identity(data_dir, "box", machine_id_files=(machine,))
    warnings = [record for record in caplog.records if record.name == "gpu_sentinel.node"]
    assert len(warnings) == 1 and "cannot keep the node id" in warnings[0].getMessage()
    again = load_node_identity(data_dir, "box", machine_id_files=(machine,))
    assert first.id == again.id == derived_id(data_dir, (machine,))
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    assert sorted(path.name for path in data_dir.iterdir()) == []  # nothing half-written left behind
    elsewhere = tmp_path / "other-machine-id"
    elsewhere.write_text("fedcba9876543210fedcba9876543210\n")
    assert derived_id(data_dir, (elsewhere,)) != first.id
    assert derived_id(tmp_path, (machine,)) != first.id
    assert not (data_dir / NODE_ID_FILE).exists()


def test_an_upgraded_install_on_a_full_disk_starts_and_samples(small_disk: Path) -> None:
    """An install from before node ids (its other files are there) upgraded while its disk is full."""
    data_dir = small_disk / "data"
    settings = Settings(data_dir=data_dir, alerts_enabled=False, gpu_poll_interval=0.05)  # type: ignore[call-arg]

    def service() -> Service:
        return Service(settings, gpu_source=SimulatedGPUs(1, seed=2, xid_mean_interval_s=1e12))

    before = service()
    before.start()
    before.stop()
    (data_dir / NODE_ID_FILE).unlink()
    fill(small_disk)
    upgraded = service()
    upgraded.start()
    try:
        assert upgraded.node.id == derived_id(data_dir)
        deadline = time.monotonic() + 10.0
        while upgraded.sampler.latest is None and time.monotonic() < deadline:
            time.sleep(0.05)
        latest = upgraded.sampler.latest
        assert latest is not None and len(latest.gpus) == 1
    finally:
        upgraded.stop()
