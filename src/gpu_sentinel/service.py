"""The long-lived parts of one running service, built from Settings and started and stopped together.

The API, the CLI and tests all make a ``Service``; the FastAPI app only holds one.
"""

from __future__ import annotations

import logging

from gpu_sentinel.collectors.base import GPUSource, NoGPUSource
from gpu_sentinel.collectors.host import HostCollector
from gpu_sentinel.config import Settings
from gpu_sentinel.sampler import HostSource, Sampler

log = logging.getLogger(__name__)


def build_gpu_source(settings: Settings) -> GPUSource:
    """Simulated GPUs when asked for, NVML otherwise, nothing when GPU monitoring is disabled."""
    if not settings.enable_gpu_monitoring:
        return NoGPUSource()
    if settings.simulate_gpus:
        from gpu_sentinel.collectors.simulated import SimulatedGPUs

        return SimulatedGPUs(
            settings.simulate_gpus, seed=settings.simulate_seed, lose_last_gpu=settings.simulate_lost_gpu
        )
    from gpu_sentinel.collectors.nvml import NvmlGPUs

    return NvmlGPUs(retry_interval_s=settings.nvml_retry_interval)


class Service:
    """Owns the sampler and everything that consumes its snapshots."""

    def __init__(
        self,
        settings: Settings,
        *,
        gpu_source: GPUSource | None = None,
        host_source: HostSource | None = None,
    ) -> None:
        self.settings = settings
        self.sampler = Sampler(
            gpu_source or build_gpu_source(settings),
            host_source or HostCollector(),
            interval_s=settings.gpu_poll_interval,
            slow_interval_s=settings.slow_poll_interval,
        )
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.sampler.start()
        log.info(
            "sampling every %.3g s (slow metrics every %.3g s); GPUs: %s",
            self.settings.gpu_poll_interval,
            self.settings.slow_poll_interval,
            self.sampler.gpus.status,
        )

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self.sampler.stop()
        self.sampler.gpus.close()
