"""Prometheus exposition of the latest snapshot, for the ``/metrics`` route.

GPU series carry NVIDIA dcgm-exporter's names, units, types and labels, so its Grafana dashboard
(id 12239) and existing alert rules work unchanged; host and service series follow Prometheus naming with
base units. Families come from the metric registry and are built at scrape time from the latest
snapshot, so there is no metric state to keep in step with the sampler, and a scrape never touches NVML
or psutil.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_sentinel import metrics as registry
from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.metrics.model import PrometheusType
from gpu_sentinel.prometheus_text import CONTENT_TYPE, Family, LabelValues, merge_families, render
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, Snapshot

__all__ = [
    "CONTENT_TYPE",
    "DCGM_LABELS",
    "Family",
    "SnapshotCollector",
    "render_metrics",
]

DCGM_LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION")
"""dcgm-exporter's labels, in its order; dashboard 12239 filters on ``Hostname`` and ``gpu``."""

MIG_LABELS = (*DCGM_LABELS, "GPU_I_PROFILE", "GPU_I_ID")
"""A MIG device's series: its GPU's labels (dcgm-exporter keeps the parent's ``gpu`` and ``UUID``) and
the GPU instance's profile and id, as dcgm-exporter labels them."""
GPU_INFO_LABELS = (*DCGM_LABELS, "driver_version", "cuda_version", "compute_capability")
PROCESS_LABELS = ("gpu", "UUID", "pid", "process_name", "user", "Hostname")
OWNER_LABELS = ("container", "pod", "namespace", "hpc_job")
"""dcgm-exporter's names for who owns a process (``hpc_job`` is its SLURM job label; ``job`` would clash
with Prometheus's own target label). Opt-in: a PID's owner never changes, but long ids cost storage."""
FILESYSTEM_LABELS = ("Hostname", "mountpoint", "device", "fstype")


def _help(metric: registry.Metric, spec: registry.Prometheus) -> str:
    if metric.format == "flag":
        return f"{metric.help} (1 if so, else 0)."
    return f"{metric.help} (in {spec.unit})." if spec.unit else f"{metric.help}."


def _families(
    entries: Iterable[registry.Metric], labels: tuple[str, ...], rows: Sequence[tuple[LabelValues, Any]]
) -> Iterator[Family]:
    """One family per exported name of each registry entry, holding a series for every row that has a
    value; a missing reading writes no series (never a 0), and an empty family is left out."""
    for metric in entries:
        for spec in metric.families:
            family = Family(spec.name, _help(metric, spec), spec.type, (*labels, *spec.labels))
            for label_values, record in rows:
                value = metric.prometheus_value(record, spec)
                if value is not None:
                    own = spec.labels_of(value) if spec.labels_of is not None else ()
                    family.samples.append(((*label_values, *own), value))
            if family.samples:
                yield family


def _exported(scope: registry.Scope) -> tuple[registry.Metric, ...]:
    return tuple(m for m in registry.METRICS if m.scope == scope and m.families)


GPU_READINGS = tuple(m for m in _exported("gpu") if m.prometheus and not m.prometheus.every_gpu)
GPU_STATE = tuple(m for m in _exported("gpu") if m.prometheus and m.prometheus.every_gpu)
HOST_READINGS = _exported("host")
CORE_READINGS = _exported("cpu_core")
FILESYSTEM_READINGS = _exported("filesystem")
MIG_READINGS = _exported("mig")
PROCESS_READINGS = tuple(m for m in _exported("process") if m.prometheus and not m.prometheus.opt_in)
PROCESS_UTILIZATION = tuple(m for m in _exported("process") if m.prometheus and m.prometheus.opt_in)


@dataclass(frozen=True, slots=True)
class ServiceFamily:
    """A figure about the service itself rather than a hardware reading."""

    name: str
    help: str
    type: PrometheusType
    read: Callable[[Any], float]


SAMPLER_FAMILIES = (
    ServiceFamily(
        "gpu_sentinel_sampler_last_sample_timestamp_seconds",
        "Unix time of the latest sample; a stale value means the sampler has stalled.",
        "gauge",
        lambda snap: snap.timestamp,
    ),
    ServiceFamily(
        "gpu_sentinel_sampler_samples_total",
        "Samples taken since the service started.",
        "counter",
        lambda s: s.seq,
    ),
    ServiceFamily(
        "gpu_sentinel_gpu_available",
        "1 while GPUs can be read; 0 when GPU monitoring is disabled or the driver is unavailable.",
        "gauge",
        lambda snap: float(snap.gpu_available),
    ),
)
CALL_FAMILIES = (
    ServiceFamily("gpu_sentinel_nvml_calls_total", "NVML function calls made.", "counter", lambda c: c.calls),
    ServiceFamily(
        "gpu_sentinel_nvml_call_errors_total",
        "NVML function calls that returned an error, including 'not supported'.",
        "counter",
        lambda c: c.errors,
    ),
    ServiceFamily(
        "gpu_sentinel_nvml_call_seconds_total",
        "Time spent inside NVML functions.",
        "counter",
        lambda c: c.seconds,
    ),
)


def _service(
    specs: Iterable[ServiceFamily], labels: tuple[str, ...], rows: Sequence[tuple[LabelValues, Any]]
) -> Iterator[Family]:
    for spec in specs:
        if rows:
            yield Family(
                spec.name, spec.help, spec.type, labels, [(lv, float(spec.read(r))) for lv, r in rows]
            )


def _dcgm_label_values(info: GPUInfo, hostname: str) -> LabelValues:
    return (
        str(info.index),
        info.uuid or "",
        info.pci_bus_id or "",
        f"nvidia{info.index}",
        info.name,
        hostname,
        info.driver_version or "",
    )


def _one_per_pid(processes: Iterable[GPUProcess]) -> Iterable[GPUProcess]:
    """A process with both a compute and a graphics context is listed twice; two series with the same
    labels would make Prometheus reject the whole scrape."""
    by_pid: dict[int, GPUProcess] = {}
    for process in processes:
        kept = by_pid.get(process.pid)
        if kept is None or (kept.gpu_memory_bytes or 0) < (process.gpu_memory_bytes or 0):
            by_pid[process.pid] = process
    return by_pid.values()


def _owner_label_values(process: GPUProcess) -> LabelValues:
    return (
        process.container_id or "",
        process.pod_name or process.pod_uid or "",
        process.pod_namespace or "",
        process.slurm_job_id or "",
    )


class SnapshotCollector:
    """Families over the sampler's latest snapshot and NVML call statistics.

    Both sources are callables so tests hand in fixed records; ``call_stats`` should return a copy (or a
    mapping the sampler thread does not resize while it is read).
    """

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        call_stats: Callable[[], Mapping[str, CallStats]],
        hostname: str,
        *,
        owner_labels: bool = False,
        process_utilization: bool = False,
    ) -> None:
        self._latest = latest
        self._call_stats = call_stats
        self._hostname = hostname
        self._owner_labels = owner_labels
        self._process_utilization = process_utilization

    def collect(self) -> Iterator[Family]:
        snapshot = self._latest()
        if snapshot is not None:
            yield from merge_families(self._gpu_families(snapshot.gpus))
            yield from self._host_families(snapshot.host)
            yield from self._sampler_families(snapshot)
        calls = [((self._hostname, name), stats) for name, stats in sorted(self._call_stats().items())]
        yield from _service(CALL_FAMILIES, ("Hostname", "function"), calls)

    def _gpu_families(self, gpus: Sequence[GPUSample]) -> Iterator[Family]:
        host = self._hostname
        every = [(_dcgm_label_values(s.info, host), s) for s in gpus]
        answering = [(labels, s) for labels, s in every if not s.lost]
        yield from _families(GPU_READINGS, DCGM_LABELS, answering)
        yield from _families(GPU_STATE, DCGM_LABELS, every)
        instances = [
            ((*labels, m.profile or "", str(m.gpu_instance_id) if m.gpu_instance_id is not None else ""), m)
            for labels, s in answering
            for m in s.mig_instances
        ]
        yield from _families(MIG_READINGS, MIG_LABELS, instances)
        if every:
            info = Family(
                "gpu_sentinel_gpu_info",
                "Static GPU facts as labels; the value is always 1.",
                "gauge",
                GPU_INFO_LABELS,
            )
            for labels, s in every:
                versions = (
                    s.info.driver_version or "",
                    s.info.cuda_version or "",
                    s.info.compute_capability or "",
                )
                info.samples.append(((*labels, *versions), 1.0))
            yield info
        processes: list[tuple[tuple[str, ...], GPUProcess]] = [
            ((str(s.info.index), s.info.uuid or "", str(p.pid), p.name, p.user or "", host), p)
            for _, s in answering
            for p in _one_per_pid(s.processes)
        ]
        label_names: tuple[str, ...] = PROCESS_LABELS
        if self._owner_labels:
            processes = [((*labels, *_owner_label_values(p)), p) for labels, p in processes]
            label_names = (*PROCESS_LABELS, *OWNER_LABELS)
        yield from _families(PROCESS_READINGS, label_names, processes)
        if self._process_utilization:
            yield from _families(PROCESS_UTILIZATION, label_names, processes)

    def _host_families(self, sample: HostSample) -> Iterator[Family]:
        host = self._hostname
        yield from _families(HOST_READINGS, ("Hostname",), [((host,), sample)])
        cores = [((host, str(core)), pct) for core, pct in enumerate(sample.cpu_per_core_pct)]
        yield from _families(CORE_READINGS, ("Hostname", "core"), cores)
        filesystems = [((host, f.mount_point, f.device, f.fstype), f) for f in sample.storage]
        yield from _families(FILESYSTEM_READINGS, FILESYSTEM_LABELS, filesystems)

    def _sampler_families(self, snapshot: Snapshot) -> Iterator[Family]:
        host = self._hostname
        yield from _service(SAMPLER_FAMILIES, ("Hostname",), [((host,), snapshot)])
        cost = snapshot.cost
        yield Family(
            "gpu_sentinel_collection_duration_seconds",
            "Time the latest sample spent reading each source.",
            "gauge",
            ("Hostname", "source"),
            [((host, "gpu"), cost.gpu_seconds), ((host, "host"), cost.host_seconds)],
        )


def render_metrics(collector: SnapshotCollector) -> tuple[bytes, str]:
    """The ``/metrics`` body and its content type."""
    return render(collector.collect()), CONTENT_TYPE
