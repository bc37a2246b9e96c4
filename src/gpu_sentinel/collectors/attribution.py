"""Who owns a process (container, Kubernetes pod, SLURM job), read from its cgroup path alone.

Docker, containerd, Podman, CRI-O, the kubelet and slurmstepd each put a process in a cgroup whose path
names the container id, the pod UID or the job id, so ``/proc/<pid>/cgroup`` answers with no
configuration, no kubelet API and no scheduler hook. A process keeps its cgroup for life in practice, so
it is read once per process (keyed by PID and start time, so a reused PID is read again) and forgotten
when the process goes. Pod namespace and name are optional enrichment from the kubelet's log directory
(``/var/log/pods/<namespace>_<name>_<uid>``) or the container's ``HOSTNAME``; neither is ever required.
"""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass, replace
from pathlib import Path

_ID = r"[0-9a-f]{64}"
# A component naming a container: "docker-<id>.scope" (systemd driver), "crio-<id>" (CRI-O, either
# driver), "cri-containerd-<id>.scope", "nerdctl-<id>.scope", "libpod-<id>.scope" (Podman). The monitors
# ("crio-conmon-<id>", "libpod-conmon-<id>") do not match: they are not the container.
_PREFIXED = re.compile(rf"^(docker|cri-containerd|nerdctl|crio|libpod)-({_ID})(?:\.scope)?$")
_RUNTIMES = {
    "docker": "docker",
    "cri-containerd": "containerd",
    "nerdctl": "containerd",
    "crio": "cri-o",
    "libpod": "podman",
}
_BARE = re.compile(rf"^{_ID}$")  # cgroupfs driver: "/docker/<id>", "/kubepods/burstable/pod<uid>/<id>"
_BARE_PARENTS = {"docker": "docker", "libpod_parent": "podman"}
# "pod<uid>" (cgroupfs) or "kubepods-burstable-pod<uid_with_underscores>.slice" (systemd); static pods
# have a 32-hex UID without dashes.
_POD = re.compile(
    r"(?:^|-)pod([0-9a-f]{8}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{12})(?:\.slice)?$"
)
# SLURM, cgroup v1: "/slurm/uid_<uid>/job_<id>/step_<s>"; v2: "/system.slice/slurmstepd.scope/job_<id>/..."
# (or "<node>_slurmstepd.scope" where several slurmd share a host).
_SLURM_ROOT = re.compile(r"^slurm(?:_[^/]+)?$|slurmstepd\.scope$")
_SLURM_UID = re.compile(r"^uid_(\d+)$")
_SLURM_JOB = re.compile(r"^job_(\d+)$")


@dataclass(frozen=True, slots=True)
class ProcessOwner:
    """Where a process runs; every field is None where it is not in such a thing (or it is unreadable)."""

    container_id: str | None = None
    container_runtime: str | None = None
    pod_uid: str | None = None
    pod_namespace: str | None = None
    pod_name: str | None = None
    slurm_job_id: str | None = None
    slurm_user: str | None = None
    slurm_uid: int | None = None


NOBODY = ProcessOwner()


def _paths(cgroup_text: str) -> list[list[str]]:
    """The path components of every hierarchy line (``id:controllers:path``, v1 and v2 alike)."""
    paths = []
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths.append([part for part in parts[2].split("/") if part])
    return paths


def _container(components: list[str]) -> tuple[str, str | None] | None:
    """The innermost container named in one path, with its runtime where the path tells it."""
    found: tuple[str, str | None] | None = None
    for i, part in enumerate(components):
        match = _PREFIXED.match(part)
        if match:
            found = (match.group(2), _RUNTIMES[match.group(1)])
        elif _BARE.match(part):
            parent = components[i - 1] if i else ""
            found = (part, _BARE_PARENTS.get(parent))
    return found


def _pod_uid(components: list[str]) -> str | None:
    if not any(part.startswith("kubepods") for part in components):
        return None
    for part in components:
        match = _POD.search(part)
        if match:
            return match.group(1).replace("_", "-")
    return None


def _slurm(components: list[str]) -> tuple[str | None, int | None]:
    """Job id and, on cgroup v1, the job owner's uid."""
    job: str | None = None
    uid: int | None = None
    inside = False
    for part in components:
        if _SLURM_ROOT.search(part):
            inside = True
        elif inside and (match := _SLURM_UID.match(part)):
            uid = int(match.group(1))
        elif inside and (match := _SLURM_JOB.match(part)):
            job = match.group(1)
    return job, uid


def owner_from_cgroup(cgroup_text: str) -> ProcessOwner:
    """What the cgroup paths of one process say about its owner (the text of ``/proc/<pid>/cgroup``)."""
    container = None
    pod_uid = job = None
    uid = None
    for components in _paths(cgroup_text):
        container = _container(components) or container
        pod_uid = _pod_uid(components) or pod_uid
        path_job, path_uid = _slurm(components)
        job = path_job or job
        uid = path_uid if path_uid is not None else uid
    return ProcessOwner(
        container_id=container[0] if container else None,
        container_runtime=container[1] if container else None,
        pod_uid=pod_uid,
        slurm_job_id=job,
        slurm_uid=uid,
    )


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


class Attributor:
    """Owners of processes, read once per process. Used only by the thread that owns its inspector.

    ``proc`` and ``pod_logs`` are the data roots, so tests point them at fixture trees.
    """

    def __init__(self, proc: Path = Path("/proc"), pod_logs: Path = Path("/var/log/pods")) -> None:
        self._proc = proc
        self._pod_logs = pod_logs
        self._owners: dict[int, tuple[int, ProcessOwner]] = {}
        self.cgroup_reads = 0

    def owner(self, pid: int) -> ProcessOwner:
        """The owner of ``pid``; read from its cgroup only the first time this process is seen."""
        started = self._start_time(pid)
        if started is None:
            self._owners.pop(pid, None)
            return NOBODY
        cached = self._owners.get(pid)
        if cached is not None and cached[0] == started:
            return cached[1]
        owner = self._read(pid)
        self._owners[pid] = (started, owner)
        return owner

    def forget_all_but(self, pids: set[int]) -> None:
        for pid in [pid for pid in self._owners if pid not in pids]:
            del self._owners[pid]

    def _start_time(self, pid: int) -> int | None:
        """Clock ticks since boot at which ``pid`` started (field 22 of ``stat``): a reused PID differs."""
        try:
            stat = (self._proc / str(pid) / "stat").read_text()
            return int(stat.rpartition(")")[2].split()[19])
        except (OSError, ValueError, IndexError):
            return None

    def _read(self, pid: int) -> ProcessOwner:
        self.cgroup_reads += 1
        try:
            owner = owner_from_cgroup((self._proc / str(pid) / "cgroup").read_text())
        except (OSError, UnicodeDecodeError):
            return NOBODY
        if owner.slurm_job_id is not None:
            uid = owner.slurm_uid if owner.slurm_uid is not None else self._real_uid(pid)
            owner = replace(owner, slurm_uid=uid, slurm_user=None if uid is None else user_name(uid))
        if owner.pod_uid is not None:
            namespace, name = self._pod_names(pid, owner.pod_uid)
            owner = replace(owner, pod_namespace=namespace, pod_name=name)
        return owner

    def _real_uid(self, pid: int) -> int | None:
        """cgroup v2 paths carry no uid: the job's user is then the process's own."""
        try:
            for line in (self._proc / str(pid) / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def _pod_names(self, pid: int, uid: str) -> tuple[str | None, str | None]:
        """Namespace and name from the kubelet's log directory, else the name from ``HOSTNAME``."""
        try:
            for entry in os.scandir(self._pod_logs):
                namespace, _, rest = entry.name.partition("_")
                name, _, entry_uid = rest.partition("_")
                if entry_uid == uid and namespace and name:
                    return namespace, name
        except OSError:
            pass
        return None, self._hostname(pid)

    def _hostname(self, pid: int) -> str | None:
        """A pod's containers get its name as ``HOSTNAME``; nothing else of the environment is kept."""
        try:
            environ = (self._proc / str(pid) / "environ").read_bytes()
        except OSError:
            return None
        for entry in environ.split(b"\0"):
            if entry.startswith(b"HOSTNAME="):
                return entry[len(b"HOSTNAME=") :].decode(errors="replace") or None
        return None
