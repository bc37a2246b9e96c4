"""The "allocated but idle" notification names the job, pod, container and owner holding the memory."""

from __future__ import annotations

import time
from pathlib import Path

from gpu_sentinel.alerts.engine import AlertEngine
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.snapshot import GPUProcess
from tests.alerts.conftest import ManagerFactory
from tests.alerts.helpers import GiB, gpu, snapshot
from tests.alerts.receivers import mail_channel, smtp_server

CONTAINER = "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
JOB = GPUProcess(
    pid=4242,
    name="python",
    kind="compute",
    gpu_memory_bytes=6 * GiB,
    user="alice",
    slurm_job_id="77123",
    slurm_user="alice",
)
POD = GPUProcess(
    pid=5151,
    name="vllm",
    kind="compute",
    gpu_memory_bytes=2 * GiB,
    user="root",
    container_id=CONTAINER,
    container_runtime="containerd",
    pod_uid="0b5e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    pod_namespace="ml-team",
    pod_name="serve-7f9c",
)
IDLE = RuleSpec.model_validate(
    {
        "id": "idle",
        "name": "Allocated but idle",
        "metric": "gpu.idle_allocated_gib",
        "condition": ">",
        "threshold": 1,
        "severity": "warning",
        "for": 0,
    }
)


def test_the_summary_names_job_owner_pod_and_container() -> None:
    alerts = AlertEngine([IDLE], default_cooldown_s=0, default_repeat_s=0)
    (fired,) = alerts.evaluate(snapshot(0, [gpu(0, utilization_gpu_pct=0.0, processes=(JOB, POD))]))
    summary = fired.summary()
    assert "python (pid 4242, user alice, SLURM job 77123 of alice)" in summary
    assert "vllm (pid 5151, user root, pod ml-team/serve-7f9c, container 3f2c1b0a9e8d)" in summary
    holders = fired.payload()["processes"]
    assert holders[0]["slurm_job_id"] == "77123" and holders[1]["container_id"] == CONTAINER
    assert "container_id" not in holders[0]  # unknown owners are left out, not sent as null


def test_the_email_names_the_job_and_its_owner(make_manager: ManagerFactory, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca_file):
        manager = make_manager()
        manager.config.create_channel(mail_channel(port, ca_file))
        manager.config.create_rule(IDLE.model_copy(update={"channels": ["mail"]}))
        manager.ingest(snapshot(time.time(), [gpu(0, utilization_gpu_pct=0.0, processes=(JOB, POD))]))
        (firing,) = mailbox.wait_for(1)
    body = firing.get_payload(decode=True).decode()
    assert "Process:   python (pid 4242, user alice, SLURM job 77123 of alice)" in body
    assert "Process:   vllm (pid 5151, user root, pod ml-team/serve-7f9c, container 3f2c1b0a9e8d)" in body
