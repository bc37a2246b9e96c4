"""One process over time from the per-minute process usage, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from gpu_sentinel.snapshot import GPUProcess, GPUSample
from tests.store.conftest import StoreFactory
from tests.store.helpers import GiB, feed, gpu
from tests.store.test_store import recent_minute

PID = 4242


def trainer(memory_gib: int, sm_pct: float, name: str = "python") -> GPUProcess:
    memory = memory_gib * GiB
    return GPUProcess(PID, name, "compute", gpu_memory_bytes=memory, user="alice", sm_util_pct=sm_pct)


def test_a_pid_has_one_point_a_minute_per_gpu_and_program(make_store: StoreFactory) -> None:
    """Minute 0: 2 GiB at 30 % SM on a 60 %-busy GPU 0 shared with another process doing 30 % too;
    minute 1: 6 GiB at 60 % SM alone on GPU 0; minute 2: the PID is reused on GPU 1 by another program."""
    store = make_store()
    start = recent_minute()
    neighbour = GPUProcess(pid=99, name="other", kind="compute", gpu_memory_bytes=GiB, sm_util_pct=30.0)

    def gpus(ts: float) -> list[GPUSample]:
        minute = int(ts - start) // 60
        if minute == 0:
            return [gpu(0, util=60.0, processes=[trainer(2, 30.0), neighbour]), gpu(1, util=0.0)]
        if minute == 1:
            return [gpu(0, util=60.0, processes=[trainer(6, 60.0)]), gpu(1, util=0.0)]
        return [gpu(0, util=0.0), gpu(1, util=20.0, processes=[trainer(1, 10.0, name="bash")])]

    feed(store, start, 180, gpus, per_second=1)
    feed(store, start + 180, 1, lambda ts: [gpu(0, util=0.0), gpu(1, util=0.0)])  # closes the last second

    history = store.process_history(PID, start, start + 181)

    assert history.resolution_s == 60
    first, reused = history.series
    assert (first.gpu_id, first.name, first.user) == (0, "python", "alice")
    assert first.timestamps == [start, start + 60]
    assert first.seconds == [60, 60]
    assert first.gpu_memory_mb == [2048.0, 6144.0]
    assert first.sm_percent == [30.0, 60.0]
    assert first.gpu_share_percent == [30.0, 60.0]  # half of 60 % busy, then all of it
    assert (reused.gpu_id, reused.name, reused.timestamps) == (1, "bash", [start + 120])
    assert store.process_history(PID, start, start + 181, gpu_ids=(1,)).series[0].name == "bash"
    assert store.process_history(PID + 1, start, start + 181).series == []
