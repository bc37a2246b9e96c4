"""The long-lived parts of one running service, built from Settings and started and stopped together.

The API, the CLI and tests all make a ``Service``; the FastAPI app only holds one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gpu_sentinel.alerts import AlertManager
from gpu_sentinel.auth import Auth
from gpu_sentinel.collectors.base import GPUSource, NoGPUSource
from gpu_sentinel.collectors.host import HostCollector
from gpu_sentinel.config import Settings
from gpu_sentinel.sampler import HostSource, Sampler
from gpu_sentinel.store import HistoryStore
from gpu_sentinel.stream import StreamHub

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
        self.store = HistoryStore.from_settings(settings)
        self._unsubscribe_store: Callable[[], None] | None = None
        self.auth = Auth(settings)
        self.stream = StreamHub(
            lambda: self.sampler.latest,
            sampler_interval_s=settings.gpu_poll_interval,
            heartbeat_s=settings.stream_heartbeat_interval,
            max_clients=settings.stream_max_clients,
        )
        self._unsubscribe_stream: Callable[[], None] | None = None
        self.alerts = AlertManager.from_settings(settings) if settings.alerts_enabled else None
        self._unsubscribe_alerts: Callable[[], None] | None = None
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.store.start()
        self.auth.start()
        self._unsubscribe_store = self.sampler.subscribe(self.store.ingest)
        self._unsubscribe_stream = self.sampler.subscribe(self.stream.on_snapshot)
        if self.alerts is not None:
            self.alerts.set_event_publisher(self.stream.publish_event)
            self.alerts.start()
            self._unsubscribe_alerts = self.sampler.subscribe(self.alerts.ingest)
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
        self.stream.close()
        if self._unsubscribe_stream is not None:
            self._unsubscribe_stream()
        self.sampler.stop()
        self.sampler.gpus.close()
        if self._unsubscribe_store is not None:
            self._unsubscribe_store()
        if self._unsubscribe_alerts is not None:
            self._unsubscribe_alerts()
        if self.alerts is not None:
            self.alerts.stop()
        self.store.close()
