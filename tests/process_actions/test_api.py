"""Terminate, pause and resume real processes through the API, the refusals, and the audit trail."""

from __future__ import annotations

import getpass
import os
import signal
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.process_actions.audit import AUDIT_FILE
from gpu_sentinel.service import Service
from tests.api.conftest import ADMIN, FAST_HASHER, VIEWER, bearer, make_client
from tests.process_actions.conftest import ProcessGPUs, alive, proc_state, wait_until

Spawn = Callable[..., subprocess.Popen[bytes]]
GRACE_S = 1.0


@pytest.fixture(scope="module")
def gpus() -> ProcessGPUs:
    return ProcessGPUs()


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """Under /tmp itself rather than pytest's root-only directory, so the service can run as another
    user for a moment (the EPERM test) and still reach its files."""
    with tempfile.TemporaryDirectory(prefix="gpu-sentinel-actions-") as scratch:
        yield Path(scratch)


@pytest.fixture(scope="module")
def client(gpus: ProcessGPUs, data_dir: Path) -> Iterator[TestClient]:
    """Bound to loopback with anonymous reads, so process actions are on by default."""
    settings = Settings(
        data_dir=data_dir,
        gpu_poll_interval=0.05,
        rate_limit=0,
        process_terminate_grace_s=GRACE_S,
        history_flush_interval=0.1,
    )
    service = Service(settings, gpu_source=gpus)
    service.auth.users.hasher = FAST_HASHER
    service.auth.users.add(*ADMIN, role="admin")
    service.auth.users.add(*VIEWER, role="viewer")
    with make_client(settings, service) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def admin(client: TestClient) -> dict[str, str]:
    return bearer(client, ADMIN)


@pytest.fixture(scope="module")
def viewer(client: TestClient) -> dict[str, str]:
    return bearer(client, VIEWER)


def listed(client: TestClient) -> dict[int, dict[str, Any]]:
    return {p["pid"]: p for p in client.get("/api/v1/system/gpus").json()["gpu_processes"]}


def show(client: TestClient, gpus: ProcessGPUs, *pids: int, gpu_id: int = 0) -> None:
    """Put ``pids`` on one GPU and wait until the latest sample lists them."""
    gpus.pids = {gpu_id: pids}
    wait_until(lambda: set(pids) <= set(listed(client)), f"PIDs {pids} appearing as GPU processes")


def act(client: TestClient, action: str, pid: int, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/processes/{pid}/{action}", headers=headers, json=body or None)


def actions(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/processes/actions").json()["actions"])


def assert_one_line_error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    return str(body["detail"])


def test_an_admin_terminates_a_gpu_process_and_the_audit_trail_says_who(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn, data_dir: Path
) -> None:
    child = spawn()
    show(client, gpus, child.pid)
    shown = listed(client)[child.pid]
    assert shown["process_name"] == "sleep" and shown["started_at"] is not None

    response = act(client, "terminate", child.pid, admin)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "terminated"
    assert child.wait(timeout=10) == -signal.SIGTERM
    wait_until(lambda: child.pid not in listed(client), "the terminated process leaving the list")
    entry = actions(client)[0]
    assert entry["user"] == ADMIN[0] and entry["action"] == "terminate" and entry["pid"] == child.pid
    owner = (entry["process_name"], entry["process_user"], entry["gpu_ids"])
    assert owner == ("sleep", getpass.getuser(), [0])
    assert entry["outcome"] == "terminated" and entry["client"]
    audit_file = data_dir / AUDIT_FILE
    assert stat.S_IMODE(audit_file.stat().st_mode) == 0o600
    assert f'"pid":{child.pid}' in audit_file.read_text()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn
) -> None:
    child = spawn("sh", "-c", "trap '' TERM; exec sleep 300")  # exec keeps SIGTERM ignored
    wait_until(lambda: Path(f"/proc/{child.pid}/comm").read_text().strip() == "sleep", "the exec")
    show(client, gpus, child.pid)

    response = act(client, "terminate", child.pid, admin)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "killed"
    assert f"{GRACE_S:g} s after SIGTERM" in response.json()["detail"]
    assert child.wait(timeout=10) == -signal.SIGKILL


def test_pause_stops_the_process_resume_runs_it_and_a_paused_one_still_terminates(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn
) -> None:
    child = spawn()
    show(client, gpus, child.pid, gpu_id=1)

    assert act(client, "pause", child.pid, admin, gpu_id=1).json()["outcome"] == "paused"
    wait_until(lambda: proc_state(child.pid) == "T", "the process stopping")
    wait_until(lambda: listed(client)[child.pid]["status"] == "stopped", "the list showing it paused")

    assert act(client, "resume", child.pid, admin).json()["outcome"] == "resumed"
    wait_until(lambda: proc_state(child.pid) == "S", "the process running again")

    assert act(client, "pause", child.pid, admin).status_code == 200
    wait_until(lambda: proc_state(child.pid) == "T", "the process stopping again")
    assert act(client, "terminate", child.pid, admin).json()["outcome"] == "terminated"
    assert child.wait(timeout=10) == -signal.SIGTERM
    recorded = [(e["action"], e["outcome"], e["gpu_ids"]) for e in actions(client)[:4]]
    assert recorded == [
        ("terminate", "terminated", [1]),
        ("pause", "paused", [1]),
        ("resume", "resumed", [1]),
        ("pause", "paused", [1]),
    ]


def test_viewers_and_anonymous_readers_may_not_signal(
    client: TestClient, gpus: ProcessGPUs, viewer: dict[str, str], spawn: Spawn
) -> None:
    child = spawn()
    show(client, gpus, child.pid)

    assert_one_line_error(act(client, "terminate", child.pid, viewer), 403, "forbidden")
    assert_one_line_error(act(client, "pause", child.pid, {}), 401, "not_authenticated")
    assert alive(child)


def test_only_processes_in_the_latest_gpu_process_list_can_be_signalled(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn
) -> None:
    listed_child, other = spawn(), spawn()
    show(client, gpus, listed_child.pid)

    detail = assert_one_line_error(act(client, "terminate", other.pid, admin), 404, "not_a_gpu_process")
    assert f"PID {other.pid}" in detail
    wrong_gpu = act(client, "terminate", listed_child.pid, admin, gpu_id=1)
    assert "GPU 1" in assert_one_line_error(wrong_gpu, 404, "not_a_gpu_process")
    assert alive(other) and alive(listed_child)
    assert actions(client)[0]["outcome"] == "refused"


@pytest.mark.parametrize(
    ("pid", "why"),
    [(1, "init process"), (os.getpid(), "this GPU Sentinel service"), (os.getppid(), "a parent of")],
    ids=["pid-1", "the-service", "its-parent"],
)
def test_init_the_service_and_its_parents_are_never_signalled(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], pid: int, why: str
) -> None:
    show(client, gpus, pid)

    detail = assert_one_line_error(act(client, "terminate", pid, admin), 403, "protected_process")

    assert why in detail
    entry = actions(client)[0]
    assert (entry["pid"], entry["action"], entry["outcome"]) == (pid, "terminate", "refused")


def test_a_reused_pid_is_not_signalled(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn
) -> None:
    """The sample saw a process that started earlier than the one holding the PID now."""
    child = spawn()
    gpus.started_at_shift = {child.pid: 30.0}
    try:
        show(client, gpus, child.pid)
        detail = assert_one_line_error(act(client, "terminate", child.pid, admin), 409, "process_changed")
    finally:
        gpus.started_at_shift = {}
    assert "PID was reused" in detail
    assert alive(child)


def test_a_process_history_shows_its_memory_and_utilization_over_time(
    client: TestClient, gpus: ProcessGPUs, spawn: Spawn
) -> None:
    child = spawn()
    show(client, gpus, child.pid, gpu_id=1)
    service: Service = client.app.state.service  # type: ignore[attr-defined]

    def recorded() -> list[dict[str, Any]]:
        service.store.flush()
        response = client.get(f"/api/v1/history/processes/{child.pid}", params={"range": "1h"})
        assert response.status_code == 200, response.text
        return list(response.json()["series"])

    wait_until(recorded, "the process's first minute in history")
    [series] = recorded()
    assert (series["gpu_id"], series["name"], series["user"]) == (1, "sleep", getpass.getuser())
    assert series["gpu_memory_mb"][-1] == 2048.0
    assert series["sm_percent"][-1] == 40.0
    assert series["gpu_share_percent"][-1] == 50.0
    assert series["timestamps"][-1] % 60 == 0 and series["seconds"][-1] >= 1
    other_gpu = client.get(f"/api/v1/history/processes/{child.pid}", params={"range": "1h", "gpu_id": 0})
    assert other_gpu.json()["series"] == []


def test_with_process_actions_off_nothing_is_signalled(
    tmp_path: Path, gpus: ProcessGPUs, spawn: Spawn
) -> None:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, process_actions=False)
    service = Service(settings, gpu_source=gpus)
    service.auth.users.hasher = FAST_HASHER
    service.auth.users.add(*ADMIN, role="admin")
    child = spawn()
    with make_client(settings, service) as off:
        show(off, gpus, child.pid)
        detail = assert_one_line_error(
            act(off, "terminate", child.pid, bearer(off, ADMIN)), 403, "process_actions_disabled"
        )
        assert off.get("/api/v1/processes/actions").json()["enabled"] is False
    assert "GPU_SENTINEL_PROCESS_ACTIONS" in detail
    assert alive(child)


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process as another user needs root")
def test_the_os_refusing_another_users_process_is_a_clear_error(
    client: TestClient, gpus: ProcessGPUs, admin: dict[str, str], spawn: Spawn, data_dir: Path
) -> None:
    """The service runs as one unprivileged user (euid 65534, owning its data directory) and the
    process belongs to another."""
    child = spawn("sleep", "300", user=12345, group=12345)
    show(client, gpus, child.pid)
    for path in [data_dir, *data_dir.rglob("*")]:
        os.chown(path, 65534, 65534)
    os.setresuid(0, 65534, 0)  # every thread of this process, as glibc applies it; no CAP_KILL now
    try:
        response = act(client, "terminate", child.pid, admin)
    finally:
        os.setresuid(0, 0, 0)

    detail = assert_one_line_error(response, 403, "signal_refused")
    assert "EPERM" in detail and "uid 65534" in detail and "another user's process" in detail
    assert alive(child)
    entry = actions(client)[0]
    assert (entry["pid"], entry["outcome"], entry["process_user"]) == (child.pid, "denied", "12345")


def test_the_made_up_processes_of_simulated_gpus_are_never_signalled(tmp_path: Path) -> None:
    """Their PIDs may be real processes of this host: without a sampled start time nothing is sent."""
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0)
    service = Service(settings, gpu_source=SimulatedGPUs(1, seed=3, xid_mean_interval_s=1e12))
    service.auth.users.hasher = FAST_HASHER
    service.auth.users.add(*ADMIN, role="admin")
    with make_client(settings, service) as simulated:
        wait_until(lambda: listed(simulated), "the simulated training job's processes")
        protected = (1, os.getpid(), os.getppid())  # refused for another reason
        pid, shown = next((p, s) for p, s in listed(simulated).items() if p not in protected)
        assert shown["started_at"] is None
        response = act(simulated, "terminate", pid, bearer(simulated, ADMIN))
    assert "start time of PID" in assert_one_line_error(response, 409, "process_changed")
