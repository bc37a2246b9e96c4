"""Usage on a shared GPU: SM-seconds per process, and the GPU's energy split by them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gpu_sentinel.snapshot import GPUSample
from tests.store.conftest import StoreFactory
from tests.store.helpers import feed, gpu, process
from tests.store.test_store import recent_minute

J_PER_KWH = 3.6e6


def shared(sm_trainer: float | None, sm_notebook: float | None) -> list[GPUSample]:
    trainer = replace(process(100, "alice", name="torchrun"), sm_util_pct=sm_trainer)
    notebook = replace(process(200, "bob", name="jupyter-lab"), sm_util_pct=sm_notebook)
    return [gpu(0, util=100.0, power=400.0, processes=[trainer, notebook])]


def test_energy_follows_sm_use_on_a_shared_gpu(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 60, lambda ts: shared(75.0, 25.0), per_second=2)
    feed(store, start + 60, 1, lambda ts: [gpu(0, util=0.0)], per_second=2)

    report = store.usage(start, start + 60)
    by_pid = {p.pid: p for p in report.processes}
    assert by_pid[100].energy_kwh == pytest.approx(400 * 60 * 0.75 / J_PER_KWH)
    assert by_pid[200].energy_kwh == pytest.approx(400 * 60 * 0.25 / J_PER_KWH)
    assert by_pid[100].sm_hours == pytest.approx(60 * 0.75 / 3600)
    assert by_pid[100].gpu_hours == pytest.approx(60 * 0.75 / 3600)
    alice = next(user for user in report.users if user.user == "alice")
    assert alice.sm_hours == pytest.approx(60 * 0.75 / 3600)
    assert sum(p.energy_kwh for p in report.processes) == pytest.approx(report.gpus[0].energy_kwh)


def test_without_per_process_figures_the_split_is_equal(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 60, lambda ts: shared(None, 25.0), per_second=2)
    feed(store, start + 60, 1, lambda ts: [gpu(0, util=0.0)], per_second=2)

    by_pid = {p.pid: p for p in store.usage(start, start + 60).processes}
    assert by_pid[100].energy_kwh == pytest.approx(by_pid[200].energy_kwh)
    assert by_pid[100].sm_hours is None and by_pid[200].sm_hours == pytest.approx(60 * 0.25 / 3600)
