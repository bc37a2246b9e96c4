"""Response models of the history API, so ``/docs`` shows what each endpoint returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TrendSeries(BaseModel):
    """One metric of one GPU (or of the host), columnar as charting libraries take it."""

    metric: str = Field(description="Metric name, e.g. `gpu_utilization`.")
    unit: str = Field(description="Unit of every value (`GB` is GiB); `/api/v1/metrics` lists each metric's.")
    gpu_id: int | None = Field(description="GPU index; null for host metrics.")
    timestamps: list[int] = Field(description="Bucket starts, Unix seconds. Buckets without data are absent.")
    avg: list[float | None] = Field(description="Mean of each bucket.")
    min: list[float | None] = Field(description="Lowest value in each bucket.")
    max: list[float | None] = Field(description="Highest value in each bucket.")


class TrendsResponse(BaseModel):
    node: str = Field(description="The node whose history this is, as asked for (its id by default).")
    start: int = Field(description="First bucket start, Unix seconds (the requested start rounded down).")
    end: int = Field(description="End of the range, Unix seconds, exclusive.")
    bucket_seconds: int = Field(description="Bucket width actually used.")
    tier: Literal["raw", "5s", "15s", "1m", "1h"] = Field(description="Resolution tier read.")
    range: str | None = Field(description="The preset asked for, if any.")
    series: list[TrendSeries]


class MetricDescription(BaseModel):
    name: str
    scope: Literal["gpu", "host"]
    unit: str
    help: str
    chart: bool = Field(description="Part of the default set a trends call returns without `metric`.")


class NodeDescription(BaseModel):
    id: str = Field(description="Stable id, 32 hex digits; kept in the node's data directory.")
    name: str = Field(description="`GPU_SENTINEL_NODE_NAME`, else the node's host name.")
    local: bool = Field(description="This node (the one answering).")
    gpus: list[int] = Field(description="Its GPUs that have history.")


class HistoryCatalog(BaseModel):
    metrics: list[MetricDescription]
    ranges: dict[str, int] = Field(description="Preset ranges and their default bucket, seconds.")
    gpus: list[int] = Field(description="This node's GPUs that have history.")
    node: str = Field(description="This node's id.")
    nodes: list[NodeDescription] = Field(description="Every node with history in this database, by name.")
    max_points: int = Field(description="Most points one series may have.")


class GPUUsageItem(BaseModel):
    node: str = Field(description="Name of the node the GPU is in.")
    gpu_id: int
    name: str | None
    hours: float = Field(description="Hours with samples in the range.")
    gpu_hours: float = Field(description="Utilization-weighted hours: 50 % busy for 2 h is 1 GPU-hour.")
    energy_kwh: float = Field(description="Energy drawn, integrated from power.")
    peak_memory_gb: float | None
    avg_utilization: float | None = Field(description="Mean GPU utilization, %.")
    peak_power_watts: float | None


class UserUsageItem(BaseModel):
    user: str | None = Field(description="Owner of the processes; null when it could not be read.")
    nodes: list[str] = Field(description="Names of the nodes their processes ran on.")
    gpu_ids: list[int] = Field(description="Indexes of the GPUs they used (on any of those nodes).")
    processes: int = Field(description="Distinct processes, counted per GPU.")
    hours: float = Field(description="Process-hours holding a GPU context.")
    gpu_hours: float = Field(description="Their share of utilization-weighted GPU time.")
    energy_kwh: float = Field(description="Their share of the GPUs' energy.")
    peak_memory_gb: float | None = Field(description="Largest GPU memory one of their processes held.")
    avg_utilization: float | None = Field(description="Mean utilization of the GPUs while they ran, %.")
    sm_hours: float | None = Field(
        None, description="Hours of a whole GPU's SMs their processes used; null without per-process data."
    )


class OwnerUsageItem(BaseModel):
    """A container, Kubernetes pod or SLURM job, with what its processes used."""

    id: str = Field(description="Container id, pod UID or SLURM job id.")
    details: dict[str, str | None] = Field(
        description="Containers: container_runtime, pod_uid, pod_namespace, pod_name; pods: pod_namespace, "
        "pod_name; jobs: slurm_user. Null where it could not be read."
    )
    nodes: list[str] = Field(description="Names of the nodes its processes ran on.")
    gpu_ids: list[int] = Field(description="Indexes of the GPUs it used (on any of those nodes).")
    processes: int = Field(description="Distinct processes, counted per GPU.")
    hours: float = Field(description="Process-hours holding a GPU context.")
    gpu_hours: float = Field(description="Their share of utilization-weighted GPU time.")
    energy_kwh: float = Field(description="Their share of the GPUs' energy.")
    peak_memory_gb: float | None = Field(description="Largest GPU memory one of its processes held.")
    avg_utilization: float | None = Field(description="Mean utilization of the GPUs while they ran, %.")


class ProcessUsageItem(BaseModel):
    node: str = Field(description="Name of the node it ran on.")
    gpu_id: int
    pid: int
    name: str
    user: str | None
    first_seen: int = Field(description="Unix seconds (minute resolution).")
    last_seen: int = Field(description="Unix seconds (minute resolution).")
    hours: float = Field(description="Hours holding a context on this GPU.")
    gpu_hours: float = Field(description="Its share of utilization-weighted GPU time.")
    energy_kwh: float = Field(description="Its share of the GPU's energy.")
    peak_memory_gb: float | None
    avg_utilization: float | None = Field(description="Mean utilization of the GPU while it ran, %.")
    avg_cpu_percent: float | None
    peak_host_memory_gb: float | None
    container_id: str | None = None
    container_runtime: str | None = None
    pod_uid: str | None = None
    pod_namespace: str | None = None
    pod_name: str | None = None
    slurm_job_id: str | None = None
    slurm_user: str | None = None
    sm_hours: float | None = Field(
        None,
        description="Hours of a whole GPU's SMs it used (its SM-seconds); null without per-process data.",
    )


class UsageResponse(BaseModel):
    """Time and energy of a GPU shared by several processes are split between them second by second in
    proportion to their SM use (their SM-seconds), or equally where a process's SM use is unknown."""

    start: int
    end: int
    resolution_seconds: int = Field(description="Granularity of the figures (60, or 3600 for old ranges).")
    gpus: list[GPUUsageItem]
    users: list[UserUsageItem] = Field(description="Busiest first.")
    processes: list[ProcessUsageItem] = Field(description="Busiest first, at most `limit`.")
    containers: list[OwnerUsageItem] = Field(description="Busiest first; processes in a container.")
    pods: list[OwnerUsageItem] = Field(description="Busiest first; processes in a Kubernetes pod.")
    jobs: list[OwnerUsageItem] = Field(description="Busiest first; processes in a SLURM job.")


class HistoryStatus(BaseModel):
    backend: Literal["sqlite", "postgresql"]
    location: str = Field(description="File path, or the database URL without its password.")
    connected: bool
    last_error: str | None
    last_cause: str | None = Field(description="The last error in short, without hosts, users or paths.")
    last_write: float | None = Field(description="Unix seconds of the last commit.")
    rows_written: int
    queued_snapshots: int
    backlog_rows: int = Field(
        description="Rows held in memory while neither the database nor the spill file take them."
    )
    spilled_bytes: int = Field(description="Bytes waiting in the spill file.")
    dropped_snapshots: int
    dropped_rows: int


class ProcessHistorySeries(BaseModel):
    """One PID on one GPU under one executable name, bucket by bucket (columnar)."""

    gpu_id: int
    name: str = Field(description="Executable name; a PID reused by another program is another series.")
    user: str | None
    timestamps: list[int] = Field(
        description="Bucket starts, Unix seconds; buckets without the process are absent."
    )
    seconds: list[int] = Field(description="Seconds of each bucket the process was seen.")
    gpu_memory_mb: list[float | None] = Field(description="Peak GPU memory in the bucket, MiB.")
    sm_percent: list[float | None] = Field(
        description="Mean share of the GPU's SMs the process used while seen, % (null where the driver "
        "reports no per-process utilization)."
    )
    gpu_share_percent: list[float | None] = Field(
        description="Its fair share of the GPU's busy time while seen, % (the GPU's utilization split "
        "between its processes by SM use)."
    )
    cpu_percent: list[float | None] = Field(description="Mean CPU use, one core being 100.")
    host_memory_mb: list[float | None] = Field(description="Peak resident host memory, MiB.")


class ProcessHistoryResponse(BaseModel):
    pid: int
    start: int
    end: int
    resolution_seconds: int = Field(description="Bucket width: 60 s, or 3600 s past the minute tier.")
    series: list[ProcessHistorySeries]
