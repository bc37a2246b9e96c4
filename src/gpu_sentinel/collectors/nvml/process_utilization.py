"""Per-process SM, memory, encoder and decoder utilization from NVML's per-process samples.

The driver keeps a short buffer of per-process samples (one every ~1/6 s while a process runs) and
returns those newer than the timestamp it is given; with 0 it returns the whole buffer, so figures lag
by seconds (the lag nvtop once had). So each read passes the newest sample timestamp it has already
consumed, and a process's figure is the mean of its samples since the previous read.

``nvmlDeviceGetProcessesUtilizationInfo`` (r535+) is asked first, ``nvmlDeviceGetProcessUtilization``
where it does not exist. A process the driver lists without a sample since the last read did not run
on the GPU meanwhile: 0 %. When neither function is supported (MIG mode, older GPUs), every figure is
None, never 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pynvml

from gpu_sentinel.collectors.nvml.calls import NvmlCalls

FIRST_WINDOW_US = 1_000_000  # the first read asks for the last second, not the whole buffer
FUNCTIONS = ("nvmlDeviceGetProcessesUtilizationInfo", "nvmlDeviceGetProcessUtilization")
FIELDS = (
    ("smUtil", "sm_util_pct"),
    ("memUtil", "memory_util_pct"),
    ("encUtil", "encoder_util_pct"),
    ("decUtil", "decoder_util_pct"),
)
NO_UTILIZATION: dict[str, float | None] = {name: None for _, name in FIELDS}
IDLE: dict[str, float | None] = {name: 0.0 for _, name in FIELDS}
Figures = dict[str, float | None]


@dataclass(frozen=True, slots=True)
class Utilization:
    """One read's figures by pid; ``otherwise`` for a listed pid without samples (idle after a
    successful read, unknown after a failed one)."""

    by_pid: dict[int, Figures] = field(default_factory=dict)
    otherwise: Figures = field(default_factory=lambda: NO_UTILIZATION)

    def of(self, pid: int) -> Figures:
        return self.by_pid.get(pid, self.otherwise)


UNKNOWN = Utilization()


class ProcessUtilization:
    """One GPU's per-process utilization reads. Owned by its slow reader's thread, which passes its own
    set of unsupported functions so that the fallback is decided once."""

    def __init__(
        self,
        calls: NvmlCalls,
        handle: Any,
        unsupported: set[str],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._calls = calls
        self._handle = handle
        self._unsupported = unsupported
        self._wall_clock = wall_clock
        self._last_seen_us: int | None = None

    def read(self) -> Utilization:
        """Figures by pid since the previous read."""
        since = self._last_seen_us
        if since is None:
            since = max(0, int(self._wall_clock() * 1e6) - FIRST_WINDOW_US)
        for function in FUNCTIONS:
            samples, error = self._calls.attempt(self._unsupported, function, self._handle, since)
            if samples is not None:
                return self._fold(samples, since)
            if isinstance(error, pynvml.NVMLError_NotFound):
                self._last_seen_us = since  # nothing ran since then
                return Utilization(otherwise=IDLE)
            if function not in self._unsupported:
                return UNKNOWN  # a passing failure: missing this time, asked again next time
        return UNKNOWN

    def _fold(self, samples: Any, since: int) -> Utilization:
        sums: dict[int, list[float]] = {}
        newest = since
        for sample in samples:
            if sample.timeStamp <= since:
                continue  # an old driver that ignores the timestamp would count these twice
            newest = max(newest, int(sample.timeStamp))
            totals = sums.setdefault(int(sample.pid), [0.0] * (len(FIELDS) + 1))
            for slot, (attribute, _) in enumerate(FIELDS):
                totals[slot] += float(getattr(sample, attribute))
            totals[-1] += 1
        self._last_seen_us = newest
        by_pid: dict[int, Figures] = {
            pid: {name: totals[slot] / totals[-1] for slot, (_, name) in enumerate(FIELDS)}
            for pid, totals in sums.items()
        }
        return Utilization(by_pid, IDLE)
