"""Host-side details of GPU processes (name, user, CPU %, resident memory) from psutil, and who owns
them (container, pod, SLURM job) from their cgroup.

psutil.Process objects are kept between samples because CPU % is a delta between two reads of the same
object. A process that exits between the driver's list and our read is simply dropped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

from gpu_sentinel.collectors.attribution import NOBODY, Attributor, ProcessOwner
from gpu_sentinel.snapshot import GPUProcess

MAX_NAME_LENGTH = 64

T = TypeVar("T")


def sanitize_process_name(raw: str) -> str:
    """The executable's base name only: no directory, no arguments (spec 003 §11.2: no PII)."""
    first_word = raw.strip().split(" ", 1)[0] if raw.strip() else ""
    name = os.path.basename(first_word.rstrip("/")) or "unknown"
    return name[:MAX_NAME_LENGTH]


@dataclass(frozen=True, slots=True)
class ProcessDetails:
    name: str
    user: str | None
    cpu_percent: float | None
    host_memory_bytes: int | None
    owner: ProcessOwner = NOBODY
    started_at: float | None = None
    status: str | None = None

    def gpu_process(
        self, pid: int, kind: str, gpu_memory_bytes: int | None, utilization: Mapping[str, float | None]
    ) -> GPUProcess:
        """The snapshot record of this process holding a context on one GPU; ``utilization`` holds its
        ``sm_util_pct``, ``memory_util_pct``, ``encoder_util_pct`` and ``decoder_util_pct``."""
        owner = self.owner
        return GPUProcess(
            pid=pid,
            name=self.name,
            kind=kind,
            gpu_memory_bytes=gpu_memory_bytes,
            cpu_percent=self.cpu_percent,
            host_memory_bytes=self.host_memory_bytes,
            user=self.user,
            sm_util_pct=utilization.get("sm_util_pct"),
            memory_util_pct=utilization.get("memory_util_pct"),
            encoder_util_pct=utilization.get("encoder_util_pct"),
            decoder_util_pct=utilization.get("decoder_util_pct"),
            container_id=owner.container_id,
            container_runtime=owner.container_runtime,
            pod_uid=owner.pod_uid,
            pod_namespace=owner.pod_namespace,
            pod_name=owner.pod_name,
            slurm_job_id=owner.slurm_job_id,
            slurm_user=owner.slurm_user,
            started_at=self.started_at,
            status=self.status,
        )


class ProcessInspector:
    """Looks up GPU processes on the host. Called only from the thread that owns it.

    ``proc`` and ``pod_logs`` are where ownership is read from (``/proc`` and the kubelet's
    ``/var/log/pods``), so tests hand in fixture trees; psutil always reads the live system.
    """

    def __init__(self, proc: Path = Path("/proc"), pod_logs: Path = Path("/var/log/pods")) -> None:
        self._processes: dict[int, psutil.Process] = {}
        self._owners = Attributor(proc, pod_logs)

    def describe(self, pid: int) -> ProcessDetails | None:
        """Details of ``pid``, or None when it no longer exists (or is a different process by now)."""
        try:
            proc = self._processes.get(pid)
            if proc is None or not proc.is_running():
                proc = psutil.Process(pid)
                proc.cpu_percent(None)  # first read primes the delta
                self._processes[pid] = proc
            with proc.oneshot():
                name = sanitize_process_name(proc.name())
                user = self._optional(proc.username)
                cpu = self._optional(lambda: round(proc.cpu_percent(None), 1))
                rss = self._optional(lambda: proc.memory_info().rss)
                started_at = self._optional(proc.create_time)
                status = self._optional(proc.status)
            if status == psutil.STATUS_ZOMBIE:  # it has exited and released the GPU; only its entry remains
                self._processes.pop(pid, None)
                return None
            owner = self._owners.owner(pid)
            return ProcessDetails(
                name=name,
                user=user,
                cpu_percent=cpu,
                host_memory_bytes=rss,
                owner=owner,
                started_at=started_at,
                status=status,
            )
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            self._processes.pop(pid, None)
            return None
        except psutil.AccessDenied:
            return ProcessDetails(
                name="unknown",
                user=None,
                cpu_percent=None,
                host_memory_bytes=None,
                owner=self._owners.owner(pid),
                started_at=self._start_time(pid),
            )

    @property
    def cgroup_reads(self) -> int:
        """How many times a process's cgroup file was read: once per process, not once per sample."""
        return self._owners.cgroup_reads

    def forget_all_but(self, pids: set[int]) -> None:
        """Drop cached processes the driver no longer lists, so the cache stays bounded."""
        for pid in list(self._processes):
            if pid not in pids:
                del self._processes[pid]
        self._owners.forget_all_but(pids)

    @staticmethod
    def _start_time(pid: int) -> float | None:
        """Readable even where the rest is not: /proc/<pid>/stat is world-readable."""
        try:
            return psutil.Process(pid).create_time()
        except psutil.Error:
            return None

    @staticmethod
    def _optional(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except (psutil.AccessDenied, KeyError, OSError):
            return None
