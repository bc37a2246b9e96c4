"""The interface every GPU source offers the sampler, so NVML and simulated GPUs are interchangeable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gpu_sentinel.snapshot import GPUSample


@dataclass(slots=True)
class CallStats:
    """Running count and total time of one driver function, for the collection-cost metrics."""

    calls: int = 0
    seconds: float = 0.0
    errors: int = 0


class GPUSource(Protocol):
    """A source of GPU samples. Called only from the sampler thread."""

    @property
    def available(self) -> bool:
        """True while GPUs can be read."""
        ...

    @property
    def status(self) -> str:
        """``ok``, or a short reason GPUs cannot be read (``disabled``, ``nvml_unavailable: ...``)."""
        ...

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        """Read every GPU within a bounded time, however the driver behaves. Slow metrics are refreshed
        only when ``include_slow`` (a source may publish them a tick later); otherwise the last ones are
        carried over so every sample is complete. A GPU that does not answer in time is returned with
        ``unresponsive_since`` set and no readings."""
        ...

    def call_stats(self) -> Mapping[str, CallStats]:
        """Driver calls made so far, by function name: a copy, safe to read from any thread."""
        ...

    def close(self) -> None: ...


class NoGPUSource:
    """Used when GPU monitoring is disabled by configuration."""

    available = False
    status = "disabled"

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        return ()

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}

    def close(self) -> None:
        return None
