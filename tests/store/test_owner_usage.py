"""Usage per container, Kubernetes pod and SLURM job, on SQLite and the real PostgreSQL, and the upgrade of
a database made before owners were kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gpu_sentinel.snapshot import GPUProcess, GPUSample
from gpu_sentinel.store import HistoryStore
from gpu_sentinel.store.batch import Batch
from gpu_sentinel.store.schema import HISTORY
from tests.store.conftest import StoreFactory
from tests.store.helpers import GiB, feed, gpu
from tests.store.test_migrations import FIXTURE, START, open_store
from tests.store.test_store import recent_minute

CONTAINER = "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
POD_UID = "0b5e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def job_process(pid: int, job: str, user: str = "alice") -> GPUProcess:
    return GPUProcess(
        pid=pid,
        name="python",
        kind="compute",
        gpu_memory_bytes=4 * GiB,
        user=user,
        slurm_job_id=job,
        slurm_user=user,
    )


def pod_process(pid: int, memory_gib: float = 8.0) -> GPUProcess:
    return GPUProcess(
        pid=pid,
        name="vllm",
        kind="compute",
        gpu_memory_bytes=int(memory_gib * GiB),
        user="root",
        container_id=CONTAINER,
        container_runtime="containerd",
        pod_uid=POD_UID,
        pod_namespace="ml-team",
        pod_name="serve-7f9c",
    )


def shared_gpus(ts: float) -> list[GPUSample]:
    """GPU 0 is split between job 100 (two ranks) and a pod; GPU 1 runs job 100's third rank alone."""
    return [
        gpu(
            0,
            util=60.0,
            power=300.0,
            processes=[job_process(1, "100"), job_process(2, "100"), pod_process(3)],
        ),
        gpu(1, util=100.0, power=200.0, processes=[job_process(4, "100"), job_process(5, "200", "bob")]),
    ]


def test_usage_groups_by_job_pod_and_container(make_store: StoreFactory) -> None:
    store = make_store()
    start = recent_minute()
    feed(store, start, 120, shared_gpus, per_second=2)
    feed(store, start + 120, 1, lambda ts: [gpu(0, util=0.0), gpu(1, util=0.0)])  # closes the last second
    report = store.usage(start, start + 120)

    job, other = report.jobs
    assert (job.id, job.details, job.gpu_ids, job.processes) == ("100", {"slurm_user": "alice"}, [0, 1], 3)
    # Two thirds of GPU 0 (60 % busy, 300 W) and half of GPU 1 (100 %, 200 W), for 120 s.
    assert job.gpu_hours == pytest.approx((2 / 3 * 0.6 + 0.5 * 1.0) * 120 / 3600)
    assert job.energy_kwh == pytest.approx((2 / 3 * 300 + 0.5 * 200) * 120 / 3.6e6)
    assert (other.id, other.details["slurm_user"]) == ("200", "bob")

    (container,) = report.containers
    assert container.id == CONTAINER and container.gpu_ids == [0]
    assert container.details == {
        "container_runtime": "containerd",
        "pod_uid": POD_UID,
        "pod_namespace": "ml-team",
        "pod_name": "serve-7f9c",
    }
    assert container.gpu_hours == pytest.approx(1 / 3 * 0.6 * 120 / 3600)
    assert container.peak_memory_gb == pytest.approx(8.0)
    (pod,) = report.pods
    assert (pod.id, pod.details) == (POD_UID, {"pod_namespace": "ml-team", "pod_name": "serve-7f9c"})

    rank = next(p for p in report.processes if p.pid == 3)
    assert (rank.container_id, rank.pod_name, rank.slurm_job_id) == (CONTAINER, "serve-7f9c", None)
    only_gpu1 = store.usage(start, start + 120, (1,))
    assert only_gpu1.containers == [] and {j.id for j in only_gpu1.jobs} == {"100", "200"}


def test_hourly_usage_keeps_the_owner(make_store: StoreFactory) -> None:
    """Past the minute tier's retention, usage comes from the hourly rollup: the owner survives it."""
    now = recent_minute() + 3600
    clock = [float(now)]
    store = make_store(clock=lambda: clock[0], metrics_retention_days=1)
    start = now - 3600
    feed(store, start, 60, shared_gpus, per_second=1)
    feed(store, start + 60, 1, lambda ts: [gpu(0, util=0.0), gpu(1, util=0.0)])
    clock[0] = now + 2 * 86400
    report = store.usage(start, start + 60)
    assert report.resolution_s == 3600
    assert {job.id for job in report.jobs} == {"100", "200"}
    assert report.containers[0].id == CONTAINER


def test_a_database_from_before_owners_upgrades_and_groups_new_processes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURE, path)
    store: HistoryStore = open_store(tmp_path, f"sqlite:///{path}", now=START + 400)
    try:
        assert store.database.migrate() == HISTORY.latest
        old = store.usage(START, START + 120)
        assert [user.user for user in old.users] == ["alice"]
        assert old.jobs == [] and old.containers == [] and old.processes[0].container_id is None
        feed(store, START + 240, 60, lambda ts: [gpu(0, processes=[pod_process(9)])], per_second=1)
        (container,) = store.usage(START + 240, START + 300).containers
        assert container.id == CONTAINER and container.processes == 1
    finally:
        store.close()


def test_a_process_row_spilled_before_owners_existed_is_written_with_owner_unknown(
    make_store: StoreFactory,
) -> None:
    """A spill file left by the previous release (rows without the owner columns) still drains."""
    store = make_store()
    start = recent_minute()
    old_row = [start, 0, 77, "python", "carol", 60, 30.0, 6000.0, 3000.0, 60, 4 * GiB, 600.0, 60, GiB]
    known_gpu = [0, "GPU-0", "Test GPU", 80 * GiB, start, start + 60]
    store.database.write(Batch.from_json({"process": [old_row], "gpus": [known_gpu]}), store.node_key())
    (carol,) = store.usage(start, start + 60).users
    assert carol.user == "carol" and carol.gpu_hours == pytest.approx(30 / 3600)
    (process,) = store.usage(start, start + 60).processes
    assert process.pid == 77 and process.container_id is None and process.slurm_job_id is None
