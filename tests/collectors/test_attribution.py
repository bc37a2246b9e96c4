"""Who owns each GPU process, read from fixture /proc trees with the cgroup paths real runtimes write.

The tests describe this test's own (live) PID through ``ProcessInspector``, so psutil finds it, while
its ownership comes from a fixture tree handed in as the data root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpu_sentinel.collectors.attribution import owner_from_cgroup, user_name
from gpu_sentinel.collectors.processes import ProcessInspector
from gpu_sentinel.snapshot import GPUProcess

ID = "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
INNER = "aa" * 32
POD = "0b5e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
POD_ = POD.replace("-", "_")
PID = os.getpid()

DOCKER_V1 = "\n".join(
    [
        f"12:pids:/docker/{ID}",
        f"11:memory:/docker/{ID}",
        f"4:cpu,cpuacct:/docker/{ID}",
        f"1:name=systemd:/docker/{ID}",
        "0::/",
    ]
)
SLURM_V1 = "\n".join(
    [
        "11:memory:/slurm/uid_0/job_4242/step_0/task_0",
        "7:cpuset:/slurm/uid_0/job_4242/step_0",
        "4:devices:/slurm/uid_0/job_4242/step_0",
        "1:name=systemd:/system.slice/slurmd.service",
    ]
)

# (cgroup file, container id, runtime, pod uid, slurm job)
SHAPES = {
    "docker, systemd driver, v2": (f"0::/system.slice/docker-{ID}.scope", ID, "docker", None, None),
    "docker, cgroupfs driver, v1": (DOCKER_V1, ID, "docker", None, None),
    "docker in docker, innermost wins": (f"0::/docker/{ID}/docker/{INNER}", INNER, "docker", None, None),
    "containerd pod, systemd driver, v2": (
        "0::/kubepods.slice/kubepods-burstable.slice/"
        f"kubepods-burstable-pod{POD_}.slice/cri-containerd-{ID}.scope",
        ID,
        "containerd",
        POD,
        None,
    ),
    "pod, cgroupfs driver, v1": (
        f"11:memory:/kubepods/besteffort/pod{POD}/{ID}\n1:name=systemd:/kubepods/besteffort/pod{POD}/{ID}",
        ID,
        None,
        POD,
        None,
    ),
    "guaranteed pod, CRI-O, v2": (
        f"0::/kubepods.slice/kubepods-pod{POD_}.slice/crio-{ID}.scope",
        ID,
        "cri-o",
        POD,
        None,
    ),
    "CRI-O, cgroupfs driver": (f"0::/kubepods/burstable/pod{POD}/crio-{ID}", ID, "cri-o", POD, None),
    "podman rootful, v2": (f"0::/machine.slice/libpod-{ID}.scope/container", ID, "podman", None, None),
    "podman rootless, user slice": (
        f"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope",
        ID,
        "podman",
        None,
        None,
    ),
    "podman's conmon is not the container": (
        f"0::/machine.slice/libpod-conmon-{ID}.scope",
        None,
        None,
        None,
        None,
    ),
    "nerdctl": (f"0::/system.slice/nerdctl-{ID}.scope", ID, "containerd", None, None),
    "slurm, v1": (SLURM_V1, None, None, None, "4242"),
    "slurm, v2": (
        "0::/system.slice/slurmstepd.scope/job_4243/step_batch/user/task_0",
        None,
        None,
        None,
        "4243",
    ),
    "slurm, v2, several slurmd": (
        "0::/system.slice/node7_slurmstepd.scope/job_99/step_0/user/task_1",
        None,
        None,
        None,
        "99",
    ),
    "slurmstepd itself": ("0::/system.slice/slurmstepd.scope/system", None, None, None, None),
    "seen from inside another cgroup namespace": (
        f"0::/../../system.slice/docker-{ID}.scope",
        ID,
        "docker",
        None,
        None,
    ),
    "a login session": ("0::/user.slice/user-1000.slice/session-3.scope", None, None, None, None),
    "a system service": ("0::/system.slice/ollama.service", None, None, None, None),
}


def write_process(
    proc: Path, pid: int, cgroup: str, *, started: int = 1000, uid: int = 0, environ: bytes = b""
) -> None:
    """A ``/proc/<pid>`` directory as the kernel lays it out, with only the files attribution reads."""
    directory = proc / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    fields = " ".join(["0"] * 18)
    (directory / "stat").write_text(f"{pid} (py (odd) name) S {fields} {started} 0 0\n")
    (directory / "cgroup").write_text(cgroup + "\n")
    (directory / "status").write_text(f"Name:\tpython3\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (directory / "environ").write_bytes(environ)


def describe(inspector: ProcessInspector) -> GPUProcess:
    details = inspector.describe(PID)
    assert details is not None
    return details.gpu_process(PID, "compute", 1024, {})


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_runtime_shape_names_its_owner(tmp_path: Path, shape: str) -> None:
    cgroup, container, runtime, pod, job = SHAPES[shape]
    write_process(tmp_path / "proc", PID, cgroup)
    process = describe(ProcessInspector(proc=tmp_path / "proc", pod_logs=tmp_path / "pods"))
    assert (process.container_id, process.container_runtime) == (container, runtime)
    assert (process.pod_uid, process.slurm_job_id) == (pod, job)
    assert process.user  # psutil's details are kept beside the owner
    assert process.slurm_user == (user_name(0) if job else None)


def test_slurm_v1_names_the_user_from_the_path_and_v2_from_the_process(tmp_path: Path) -> None:
    assert owner_from_cgroup("4:memory:/slurm/uid_1234/job_7/step_0").slurm_uid == 1234
    write_process(tmp_path / "proc", PID, "0::/system.slice/slurmstepd.scope/job_8/step_0/user/task_0", uid=0)
    process = describe(ProcessInspector(proc=tmp_path / "proc"))
    assert (process.slurm_job_id, process.slurm_user) == ("8", "root")
    assert user_name(2_000_000_007) == "2000000007"  # an unknown uid is shown as its number


def test_pod_namespace_and_name_come_from_the_kubelets_log_directory(tmp_path: Path) -> None:
    cgroup = f"0::/kubepods.slice/kubepods-pod{POD_}.slice/cri-containerd-{ID}.scope"
    write_process(tmp_path / "proc", PID, cgroup, environ=b"PATH=/bin\0HOSTNAME=from-env\0")
    (tmp_path / "pods" / f"ml-team_trainer-7f9c_{POD}").mkdir(parents=True)
    (tmp_path / "pods" / "other_pod_11111111-2222-3333-4444-555555555555").mkdir()
    process = describe(ProcessInspector(proc=tmp_path / "proc", pod_logs=tmp_path / "pods"))
    assert (process.pod_namespace, process.pod_name, process.pod_uid) == ("ml-team", "trainer-7f9c", POD)


def test_without_the_kubelets_directory_the_pod_name_comes_from_hostname(tmp_path: Path) -> None:
    cgroup = f"0::/kubepods/burstable/pod{POD}/{ID}"
    write_process(tmp_path / "proc", PID, cgroup, environ=b"PATH=/bin\0HOSTNAME=trainer-7f9c\0SECRET=x\0")
    process = describe(ProcessInspector(proc=tmp_path / "proc", pod_logs=tmp_path / "missing"))
    assert (process.pod_namespace, process.pod_name) == (None, "trainer-7f9c")


def test_each_process_is_read_once_however_many_samples(tmp_path: Path) -> None:
    write_process(tmp_path / "proc", PID, f"0::/system.slice/docker-{ID}.scope")
    inspector = ProcessInspector(proc=tmp_path / "proc")
    for _ in range(50):
        assert describe(inspector).container_id == ID
    assert inspector.cgroup_reads == 1
    inspector.forget_all_but(set())  # the driver no longer lists it: forgotten, read again if it returns
    assert describe(inspector).container_id == ID
    assert inspector.cgroup_reads == 2


def test_a_reused_pid_is_read_again(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    write_process(proc, PID, f"0::/system.slice/docker-{ID}.scope", started=1000)
    inspector = ProcessInspector(proc=proc)
    assert describe(inspector).container_id == ID
    write_process(proc, PID, "0::/system.slice/slurmstepd.scope/job_5/step_0/user/task_0", started=2000)
    process = describe(inspector)
    assert (process.container_id, process.slurm_job_id) == (None, "5")
    assert inspector.cgroup_reads == 2


def test_an_unreadable_cgroup_leaves_the_owner_unknown_and_the_process_listed(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    write_process(proc, PID, "")
    (proc / str(PID) / "cgroup").unlink()
    (proc / str(PID) / "cgroup").mkdir()  # reading it fails even as root
    inspector = ProcessInspector(proc=proc)
    process = describe(inspector)
    assert process.name and process.user
    assert (process.container_id, process.pod_uid, process.slurm_job_id) == (None, None, None)
    describe(inspector)
    assert inspector.cgroup_reads == 1  # not retried every sample


def test_a_process_missing_from_the_data_root_has_no_owner(tmp_path: Path) -> None:
    process = describe(ProcessInspector(proc=tmp_path / "empty"))
    assert process.container_id is None and process.slurm_job_id is None


def test_the_live_system_describes_this_process() -> None:
    """On the real /proc, whatever cgroup this test runs in parses without error."""
    process = describe(ProcessInspector())
    assert process.pid == PID and process.name
