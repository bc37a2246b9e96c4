"""Profiling readings (GPM, Hopper and newer) and per-process utilization.

The activity readings are percent of the interval between two fast reads, as NVML's GPM reports them;
dcgm-exporter exports the same quantities as ratios 0-1 under ``DCGM_FI_PROF_*``, so Prometheus scales
by 1/100 and dashboard 12239 (its Tensor Core panel reads ``DCGM_FI_PROF_PIPE_TENSOR_ACTIVE``) works
unchanged. A GPU without GPM reports None, and the API's ``profiling.status`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gpu_sentinel.metrics.model import Alert, Api, History, Metric, Prometheus, Reader, Value, attr

RATIO = 0.01
ProfilingScope = Literal["gpu", "mig"]


@dataclass(frozen=True, slots=True)
class _Activity:
    """One GPM activity reading, declared once for both scopes that report it (GPU, GPU instance)."""

    name: str  # the ``ProfilingSample`` field
    column: str  # the history column (whole GPUs only)
    dcgm: str
    help: str
    label: str


ACTIVITY: tuple[_Activity, ...] = (
    _Activity(
        "graphics_active_pct",
        "prof_gr",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        "Share of time the graphics or compute engine was active",
        "Engine active",
    ),
    _Activity(
        "sm_active_pct",
        "prof_sm",
        "DCGM_FI_PROF_SM_ACTIVE",
        "Share of cycles an SM had at least one warp assigned, over all SMs",
        "SM active",
    ),
    _Activity(
        "sm_occupancy_pct",
        "prof_sm_occ",
        "DCGM_FI_PROF_SM_OCCUPANCY",
        "Resident warps as a share of the SMs' maximum",
        "SM occupancy",
    ),
    _Activity(
        "tensor_active_pct",
        "prof_tensor",
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        "Share of cycles any tensor pipe was active",
        "Tensor active",
    ),
    _Activity(
        "tensor_hmma_active_pct",
        "prof_hmma",
        "DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE",
        "Share of cycles the half-precision (HMMA) tensor pipe was active",
        "Tensor HMMA",
    ),
    _Activity(
        "tensor_imma_active_pct",
        "prof_imma",
        "DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE",
        "Share of cycles the integer (IMMA) tensor pipe was active",
        "Tensor IMMA",
    ),
    _Activity(
        "tensor_dfma_active_pct",
        "prof_dfma",
        "DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE",
        "Share of cycles the double-precision (DFMA) tensor pipe was active",
        "Tensor DFMA",
    ),
    _Activity(
        "dram_active_pct",
        "prof_dram",
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "Device memory bandwidth used, as a share of its peak",
        "DRAM active",
    ),
    _Activity(
        "fp64_active_pct",
        "prof_fp64",
        "DCGM_FI_PROF_PIPE_FP64_ACTIVE",
        "Share of cycles the FP64 (non-tensor) pipes were active",
        "FP64 active",
    ),
    _Activity(
        "fp32_active_pct",
        "prof_fp32",
        "DCGM_FI_PROF_PIPE_FP32_ACTIVE",
        "Share of cycles the FP32 (non-tensor) pipes were active",
        "FP32 active",
    ),
    _Activity(
        "fp16_active_pct",
        "prof_fp16",
        "DCGM_FI_PROF_PIPE_FP16_ACTIVE",
        "Share of cycles the FP16 (non-tensor) pipes were active",
        "FP16 active",
    ),
)


def _profiled(name: str) -> Reader:
    """Reads one field of a record's ``ProfilingSample`` (a GPU's or a GPU instance's)."""

    def read(record: Any) -> Value:
        value: Value = getattr(record.profiling, name)
        return value

    return read


def _activity(activity: _Activity, scope: ProfilingScope) -> Metric:
    """A whole GPU's reading is stored and alertable; a GPU instance's (``nvmlGpmMigSampleGet``) is
    exported and shown only, as the history tables hold whole GPUs. Both are exported as
    dcgm-exporter's ratio and in the API as %."""
    name = activity.name
    whole_gpu = scope == "gpu"
    where = "" if whole_gpu else ", on this GPU instance"
    return Metric(
        key=f"{scope}.{name}",
        scope=scope,
        unit="%",
        help=f"{activity.help}{where} (GPM)",
        label=activity.label,
        format="percent",
        read=_profiled(name),
        history=History(name, activity.column, "%") if whole_gpu else None,
        alert=Alert(f"gpu.{name}", "%") if whole_gpu else None,
        prometheus=Prometheus(activity.dcgm, "gauge", "ratio", RATIO),
        api=Api(f"profiling.{name}", "%", digits=1),
    )


def _pcie(direction: str, label: str) -> Metric:
    what = "transmitted" if direction == "tx" else "received"
    return Metric(
        key=f"gpu.prof_pcie_{direction}_bytes_per_s",
        scope="gpu",
        unit="B/s",
        help=f"PCIe bytes {what}, headers and payload, over the profiling interval (GPM)",
        label=label,
        format="bytes_per_s",
        read=_profiled(f"pcie_{direction}_bytes_per_s"),
        # DCGM_FI_PROF_PCIE_*_BYTES comes from the PCIe byte counters (metrics/gpu.py), which every GPU
        # since Volta has and which count exactly; GPM's figure is shown beside the other profiling ones.
        api=Api(f"profiling.pcie_{direction}_mb_per_s", "MB/s", 1e-6, 2),
    )


def profiling_metrics(scope: ProfilingScope) -> tuple[Metric, ...]:
    """The GPM readings of one scope; PCIe belongs to the whole GPU, so a GPU instance has none."""
    activity = tuple(_activity(a, scope) for a in ACTIVITY)
    if scope == "mig":
        return activity
    return (*activity, _pcie("tx", "PCIe TX (profiling)"), _pcie("rx", "PCIe RX (profiling)"))


def _process(key: str, help: str, label: str, api_field: str) -> Metric:
    """Per-process utilization: in the process table and the stream, and on ``/metrics`` as a ratio
    only when ``GPU_SENTINEL_PROMETHEUS_PROCESS_UTILIZATION`` asks (a series per PID)."""
    engine = key.removesuffix("_util_pct")
    return Metric(
        key=f"process.{key}",
        scope="process",
        unit="%",
        help=help,
        label=label,
        format="percent",
        read=attr(key),
        prometheus=Prometheus(
            f"gpu_sentinel_gpu_process_{engine}_utilization_ratio", "gauge", "ratio", RATIO, opt_in=True
        ),
        api=Api(api_field, "%", digits=1),
    )


PROFILING_METRICS: tuple[Metric, ...] = profiling_metrics("gpu")

PROCESS_UTILIZATION_METRICS: tuple[Metric, ...] = (
    _process("sm_util_pct", "Share of the GPU's SMs a process used since the last read", "SM", "sm_percent"),
    _process(
        "memory_util_pct",
        "Share of the GPU's memory bandwidth a process used since the last read",
        "Memory bandwidth",
        "memory_util_percent",
    ),
    _process(
        "encoder_util_pct",
        "Share of the video encoder a process used since the last read",
        "Encoder",
        "encoder_percent",
    ),
    _process(
        "decoder_util_pct",
        "Share of the video decoder a process used since the last read",
        "Decoder",
        "decoder_percent",
    ),
)
