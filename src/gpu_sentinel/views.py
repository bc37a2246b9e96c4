"""Turns snapshots into the API's response bodies, once per snapshot.

Sample once, serve many: the JSON of each response is built the first time a snapshot is asked for it
and reused by every later request until the next snapshot, so a request costs a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from gpu_sentinel import models
from gpu_sentinel.metrics import BY_KEY, METRICS, Metric
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, MIGInstance, Snapshot

CORE = BY_KEY["cpu_core.utilization_pct"]
_MEMORY_TOTAL = BY_KEY["gpu.memory_total_bytes"]
Path = tuple[tuple[str, ...], str]


def _paths(scope: str) -> tuple[tuple[Path, Metric], ...]:
    found = []
    for metric in METRICS:
        if metric.scope == scope and metric.api is not None:
            *parents, leaf = metric.api.field.split(".")
            found.append(((tuple(parents), leaf), metric))
    return tuple(found)


_API_READINGS = {scope: _paths(scope) for scope in ("gpu", "host", "process", "filesystem", "mig")}


def _readings(scope: str, record: object, extra: dict[str, Any]) -> dict[str, Any]:
    """Every registry reading of ``record`` at its API path, in the API's unit and precision, with
    ``extra`` (facts that are not readings) merged in."""
    tree: dict[str, Any] = {}
    for (parents, leaf), metric in _API_READINGS[scope]:
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = metric.api_value(record)
    _merge(tree, extra)
    return tree


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def gpu_info(info: GPUInfo, lost: bool = False) -> models.GPUInfo:
    return models.GPUInfo(
        id=info.index,
        name=info.name,
        memory_total_gb=_MEMORY_TOTAL.api_value(GPUSample(info=info)),
        cuda_version=info.cuda_version,
        driver_version=info.driver_version,
        compute_capability=info.compute_capability,
        uuid=info.uuid,
        serial=info.serial,
        pci_bus_id=info.pci_bus_id,
        lost=lost,
    )


def gpu_metrics(sample: GPUSample) -> models.GPUMetrics:
    info = sample.info
    state = {
        "lost": sample.lost,
        "unresponsive": sample.unresponsive,
        "unresponsive_since": sample.unresponsive_since,
    }
    reasons = sample.clock_event_reasons
    body = _readings(
        "gpu",
        sample,
        {
            "gpu_id": info.index,
            "gpu_name": info.name,
            "uuid": info.uuid,
            "pci_bus_id": info.pci_bus_id,
            **state,
            "utilization": {"compute": BY_KEY["gpu.utilization_pct"].api_value(sample)},
            "clocks": {"gpu_max_mhz": info.gpu_max_mhz, "memory_max_mhz": info.memory_max_mhz},
            "pcie": {"max_generation": info.pcie_max_generation, "max_width": info.pcie_max_width},
            "mig_mode": sample.mig_mode,
            "mig_instances": [mig_instance(m, sample.processes) for m in sample.mig_instances],
            "profiling": {"status": sample.profiling.status},
            "health": {
                **state,
                "last_xid": sample.last_xid,
                "xid_events": [{"timestamp": e.timestamp, "xid": e.xid} for e in sample.xid_events],
                "clock_event_reasons": list(reasons) if reasons is not None else None,
                "retired_pages": {"pending": sample.retired_pages_pending},
                "remapped_rows": {
                    "pending": sample.remapped_rows_pending,
                    "failure": sample.remapped_rows_failure,
                },
            },
        },
    )
    return models.GPUMetrics.model_validate(body)


def mig_instance(instance: MIGInstance, processes: tuple[GPUProcess, ...]) -> dict[str, Any]:
    """A MIG device's API body, with the processes the driver says run on it."""
    pids = [
        p.pid
        for p in processes
        if instance.gpu_instance_id is not None
        and p.gpu_instance_id == instance.gpu_instance_id
        and p.compute_instance_id == instance.compute_instance_id
    ]
    return _readings(
        "mig",
        instance,
        {
            "index": instance.index,
            "uuid": instance.uuid,
            "profile": instance.profile,
            "gpu_instance_id": instance.gpu_instance_id,
            "compute_instance_id": instance.compute_instance_id,
            "profiling": {"status": instance.profiling.status},
            "pids": pids,
        },
    )


OWNER_FIELDS = (
    "container_id",
    "container_runtime",
    "pod_uid",
    "pod_namespace",
    "pod_name",
    "slurm_job_id",
    "slurm_user",
)
"""Who owns a process: the same names on the snapshot record and in the API."""


def gpu_process(process: GPUProcess, gpu_id: int | None = None) -> models.GPUProcess:
    extra = {
        "pid": process.pid,
        "process_name": process.name,
        "user": process.user,
        "kind": process.kind,
        "gpu_instance_id": process.gpu_instance_id,
        "compute_instance_id": process.compute_instance_id,
        "started_at": process.started_at,
        "status": process.status,
    }
    owner = {name: getattr(process, name) for name in OWNER_FIELDS}
    body = _readings("process", process, {**extra, **owner, "gpu_id": gpu_id})
    return models.GPUProcess.model_validate(body)


def process_matches(process: GPUProcess, query: str) -> bool:
    """``query`` (lower case) found in the PID, name, user, container, pod or job of ``process``."""
    texts = (str(process.pid), process.name, process.user, *(getattr(process, n) for n in OWNER_FIELDS))
    return any(text is not None and query in text.lower() for text in texts)


def system_metrics(host: HostSample, now: float) -> models.SystemMetrics:
    extra = {
        "hostname": host.hostname,
        "uptime_seconds": round(now - host.boot_time, 0) if host.boot_time else None,
        "cpu": {
            "per_core_percent": [CORE.api_value(pct) for pct in host.cpu_per_core_pct],
            "load_average": list(host.load_average) if host.load_average else None,
        },
    }
    return models.SystemMetrics.model_validate(_readings("host", host, extra))


def storage(host: HostSample) -> list[models.StorageInfo]:
    return [
        models.StorageInfo.model_validate(
            _readings("filesystem", s, {"mount_point": s.mount_point, "fstype": s.fstype})
        )
        for s in host.storage
    ]


def gpu_list(snapshot: Snapshot) -> list[models.GPUInfo]:
    return [gpu_info(sample.info, sample.lost) for sample in snapshot.gpus]


def _processes(sample: GPUSample, query: str | None) -> tuple[GPUProcess, ...]:
    if not query:
        return sample.processes
    return tuple(p for p in sample.processes if process_matches(p, query.lower()))


def monitoring_all(
    snapshot: Snapshot, gpu_id: int, query: str | None = None
) -> models.MonitoringDataResponse:
    sample = snapshot.gpu(gpu_id)
    return models.MonitoringDataResponse(
        gpu_available=snapshot.gpu_available,
        gpu_status=snapshot.gpu_status,
        timestamp=snapshot.timestamp,
        gpu_list=gpu_list(snapshot),
        gpu_metrics=gpu_metrics(sample) if sample is not None else None,
        system_metrics=system_metrics(snapshot.host, snapshot.timestamp),
        gpu_processes=[gpu_process(p) for p in _processes(sample, query)] if sample is not None else [],
        storage=storage(snapshot.host),
    )


def all_gpus(snapshot: Snapshot, query: str | None = None) -> models.AllGPUsResponse:
    return models.AllGPUsResponse(
        gpu_available=snapshot.gpu_available,
        timestamp=snapshot.timestamp,
        gpus=[gpu_metrics(sample) for sample in snapshot.gpus],
        gpu_processes=[
            gpu_process(p, sample.index) for sample in snapshot.gpus for p in _processes(sample, query)
        ],
    )


class RenderedResponses:
    """JSON bodies of the current snapshot, built on first request and dropped when a new one arrives.

    Used only from the event loop thread, so it needs no lock.
    """

    def __init__(self) -> None:
        self._seq: int | None = None
        self._bodies: dict[Any, bytes] = {}

    def get(self, snapshot: Snapshot, key: Any, build: Callable[[], BaseModel | list[Any]]) -> bytes:
        if snapshot.seq != self._seq:
            self._seq = snapshot.seq
            self._bodies = {}
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = _dump(build())
        return body


def _dump(value: BaseModel | list[Any]) -> bytes:
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    return b"[" + b",".join(item.model_dump_json().encode() for item in value) + b"]"
