"""Host-side details of GPU processes (name, user, CPU %, resident memory) from psutil.

psutil.Process objects are kept between samples because CPU % is a delta between two reads of the same
object. A process that exits between the driver's list and our read is simply dropped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psutil

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


class ProcessInspector:
    """Looks up GPU processes on the host. Called only from the sampler thread."""

    def __init__(self) -> None:
        self._processes: dict[int, psutil.Process] = {}

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
            return ProcessDetails(name=name, user=user, cpu_percent=cpu, host_memory_bytes=rss)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            self._processes.pop(pid, None)
            return None
        except psutil.AccessDenied:
            return ProcessDetails(name="unknown", user=None, cpu_percent=None, host_memory_bytes=None)

    def forget_all_but(self, pids: set[int]) -> None:
        """Drop cached processes the driver no longer lists, so the cache stays bounded."""
        for pid in list(self._processes):
            if pid not in pids:
                del self._processes[pid]

    @staticmethod
    def _optional(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except (psutil.AccessDenied, KeyError, OSError):
            return None
