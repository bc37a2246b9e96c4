"""Response models of the history API, so ``/docs`` shows what each endpoint returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TrendSeries(BaseModel):
    """One metric of one GPU (or of the host), columnar as charting libraries take it."""

    metric: str = Field(description="Metric name, e.g. `gpu_utilization`.")
    unit: str = Field(description="Unit of every value: `%`, `GB` (GiB), `°C`, `W`, `MHz`, `B/s`.")
    gpu_id: int | None = Field(description="GPU index; null for host metrics.")
    timestamps: list[int] = Field(description="Bucket starts, Unix seconds. Buckets without data are absent.")
    avg: list[float | None] = Field(description="Mean of each bucket.")
    min: list[float | None] = Field(description="Lowest value in each bucket.")
    max: list[float | None] = Field(description="Highest value in each bucket.")


class TrendsResponse(BaseModel):
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


class HistoryCatalog(BaseModel):
    metrics: list[MetricDescription]
    ranges: dict[str, int] = Field(description="Preset ranges and their default bucket, seconds.")
    gpus: list[int] = Field(description="GPUs that have history.")
    max_points: int = Field(description="Most points one series may have.")


class GPUUsageItem(BaseModel):
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
    gpu_ids: list[int]
    processes: int = Field(description="Distinct processes, counted per GPU.")
    hours: float = Field(description="Process-hours holding a GPU context.")
    gpu_hours: float = Field(description="Their share of utilization-weighted GPU time.")
    energy_kwh: float = Field(description="Their share of the GPUs' energy.")
    peak_memory_gb: float | None = Field(description="Largest GPU memory one of their processes held.")
    avg_utilization: float | None = Field(description="Mean utilization of the GPUs while they ran, %.")


class ProcessUsageItem(BaseModel):
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


class UsageResponse(BaseModel):
    """Time and energy of a GPU shared by several processes are split equally between them."""

    start: int
    end: int
    resolution_seconds: int = Field(description="Granularity of the figures (60, or 3600 for old ranges).")
    gpus: list[GPUUsageItem]
    users: list[UserUsageItem] = Field(description="Busiest first.")
    processes: list[ProcessUsageItem] = Field(description="Busiest first, at most `limit`.")


class HistoryStatus(BaseModel):
    backend: Literal["sqlite", "postgresql"]
    location: str = Field(description="File path, or the database URL without its password.")
    connected: bool
    last_error: str | None
    last_write: float | None = Field(description="Unix seconds of the last commit.")
    rows_written: int
    queued_snapshots: int
    backlog_rows: int = Field(description="Rows held in memory while the database is away.")
    spilled_bytes: int = Field(description="Bytes waiting in the spill file.")
    dropped_snapshots: int
    dropped_rows: int
