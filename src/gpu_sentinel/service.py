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
from gpu_sentinel.fleet.service import Fleet
from gpu_sentinel.node import NodeIdentity, load_node_identity
from gpu_sentinel.preferences import PREFERENCES_FILE, PreferenceStore
from gpu_sentinel.process_actions import ProcessControl
from gpu_sentinel.sampler import HostSource, Sampler
from gpu_sentinel.store import HistoryStore
from gpu_sentinel.stream import StreamHub

log = logging.getLogger(__name__)
ALERT_COUNT_TIMEOUT_S = 0.25


def build_gpu_source(settings: Settings) -> GPUSource:
    """Simulated GPUs when asked for, NVML otherwise, nothing when GPU monitoring is disabled."""
    if not settings.enable_gpu_monitoring:
        return NoGPUSource()
    if settings.simulate_gpus:
        from gpu_sentinel.collectors.simulated import SimulatedGPUs

        return SimulatedGPUs(
            settings.simulate_gpus,
            seed=settings.simulate_seed,
            lose_last_gpu=settings.simulate_lost_gpu,
            mig_gpus=settings.simulate_mig_gpus,
        )
    from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines

    return NvmlGPUs(
        retry_interval_s=settings.nvml_retry_interval,
        deadlines=ReadDeadlines.for_interval(settings.gpu_poll_interval),
    )


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
        self.node: NodeIdentity = load_node_identity(settings.data_dir, settings.node_name)
        self.sampler = Sampler(
            gpu_source or build_gpu_source(settings),
            host_source or HostCollector(),
            interval_s=settings.gpu_poll_interval,
            slow_interval_s=settings.slow_poll_interval,
        )
        self.store = HistoryStore.from_settings(settings, node=self.node)
        self._unsubscribe_store: Callable[[], None] | None = None
        self.auth = Auth(settings)
        self.preferences = PreferenceStore(settings.data_dir / PREFERENCES_FILE)
        self.processes = ProcessControl(settings, lambda: self.sampler.latest)
        self.stream = StreamHub(
            lambda: self.sampler.latest,
            sampler_interval_s=settings.gpu_poll_interval,
            heartbeat_s=settings.stream_heartbeat_interval,
            max_clients=settings.stream_max_clients,
        )
        self._unsubscribe_stream: Callable[[], None] | None = None
        self.alerts = (
            AlertManager.from_settings(settings, node=self.node) if settings.alerts_enabled else None
        )
        self._unsubscribe_alerts: Callable[[], None] | None = None
        self.fleet = Fleet(
            settings,
            self.node,
            lambda: self.sampler.latest,
            self.alerts_firing,
            self.alerts,
            publish_alert_event=self.stream.publish_event,
        )
        self._started = False

    def alerts_firing(self) -> int | None:
        """How many of this node's own alerts fire now (None with alerting off), for its live state."""
        if self.alerts is None:
            return None
        # A short wait: a busy alert worker must not hold up this node's heartbeat.
        return self.alerts.worker.call(
            lambda state: sum(1 for _, instance in state.engine.active() if instance.state == "firing"),
            timeout_s=ALERT_COUNT_TIMEOUT_S,
        )

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
        self.fleet.start(self.sampler.subscribe)
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
        self.fleet.stop()
        self.sampler.gpus.close()
        if self._unsubscribe_store is not None:
            self._unsubscribe_store()
        if self._unsubscribe_alerts is not None:
            self._unsubscribe_alerts()
        if self.alerts is not None:
            self.alerts.stop()
        self.store.close()
