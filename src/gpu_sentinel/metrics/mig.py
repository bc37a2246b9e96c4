"""Every reading of one MIG device: the registry's ``mig`` scope.

A MIG device is exported under the same dcgm-exporter family as a whole GPU (``DCGM_FI_DEV_FB_USED``,
``DCGM_FI_PROF_SM_ACTIVE``, ...), told apart by the ``GPU_I_PROFILE`` and ``GPU_I_ID`` labels as
dcgm-exporter does, so a Grafana panel shows the instances beside their GPU. Not kept in history: the
history tables hold whole GPUs.
"""

from __future__ import annotations

from gpu_sentinel.metrics.gpu import GIB_SCALE, MIB_SCALE
from gpu_sentinel.metrics.model import Api, Metric, Prometheus, Reader, attr
from gpu_sentinel.metrics.profiling import profiling_metrics
from gpu_sentinel.snapshot import MIGInstance


def _memory_free_bytes(instance: MIGInstance) -> int | None:
    if instance.memory_total_bytes is None or instance.memory_used_bytes is None:
        return None
    return max(0, instance.memory_total_bytes - instance.memory_used_bytes)


def _memory_used_pct(instance: MIGInstance) -> float | None:
    if instance.memory_used_bytes is None or not instance.memory_total_bytes:
        return None
    return 100.0 * instance.memory_used_bytes / instance.memory_total_bytes


def _memory(key: str, *, help: str, label: str, read: Reader, dcgm: str, api_field: str) -> Metric:
    return Metric(
        key=f"mig.{key}",
        scope="mig",
        unit="B",
        help=help,
        label=label,
        format="bytes",
        read=read,
        prometheus=Prometheus(dcgm, "gauge", "MiB", MIB_SCALE, "floor"),
        api=Api(api_field, "GiB", GIB_SCALE, 2),
    )


MIG_METRICS: tuple[Metric, ...] = (
    _memory(
        "memory_used_bytes",
        help="Memory of the GPU instance in use",
        label="Memory used",
        read=attr("memory_used_bytes"),
        dcgm="DCGM_FI_DEV_FB_USED",
        api_field="memory.used_gb",
    ),
    _memory(
        "memory_free_bytes",
        help="Memory of the GPU instance free",
        label="Memory free",
        read=_memory_free_bytes,
        dcgm="DCGM_FI_DEV_FB_FREE",
        api_field="memory.free_gb",
    ),
    _memory(
        "memory_total_bytes",
        help="Memory of the GPU instance",
        label="Memory total",
        read=attr("memory_total_bytes"),
        dcgm="DCGM_FI_DEV_FB_TOTAL",
        api_field="memory.total_gb",
    ),
    Metric(
        "mig.memory_used_pct",
        "mig",
        "%",
        "Memory of the GPU instance in use as a share of its total",
        "Memory used",
        "percent",
        _memory_used_pct,
        api=Api("memory.used_percent", "%", digits=1),
    ),
    Metric(
        "mig.utilization_pct",
        "mig",
        "%",
        "Share of time a kernel was running on the MIG device; NVML does not report it per MIG device, "
        "so it is null there (SM activity stands in)",
        "GPU utilization",
        "percent",
        attr("utilization_gpu_pct"),
        prometheus=Prometheus("DCGM_FI_DEV_GPU_UTIL", "gauge", "%"),
        api=Api("utilization.gpu", "%, 0-100", digits=1),
    ),
    *profiling_metrics("mig"),
)
