"""All settings in one place, read from the environment (spec names work) and overridden by CLI flags.

Nothing is instantiated at import time: ``cli.py`` builds one ``Settings`` and passes it down, and tests
build their own in a line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "gpu-sentinel"
ENV_PREFIX = "GPU_SENTINEL_"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def _env(name: str, *spec_names: str) -> AliasChoices:
    """Accept our prefixed variable, the spec's own variable names, and the field name itself."""
    return AliasChoices(ENV_PREFIX + name.upper(), *spec_names, name)


class Settings(BaseSettings):
    """Service configuration. Environment variables are listed in the README."""

    model_config = SettingsConfigDict(case_sensitive=False, populate_by_name=True, extra="ignore")

    host: str = Field("127.0.0.1", validation_alias=_env("host"), description="Address to bind.")
    port: int = Field(5500, ge=1, le=65535, validation_alias=_env("port"), description="TCP port.")
    enable_gpu_monitoring: bool = Field(
        True,
        validation_alias=_env("enable_gpu_monitoring", "ENABLE_GPU_MONITORING"),
        description="Set false to run host monitoring only.",
    )
    gpu_poll_interval: float = Field(
        0.25,
        ge=0.05,
        le=60.0,
        validation_alias=_env("gpu_poll_interval", "GPU_POLL_INTERVAL"),
        description="Seconds between samples of the fast metrics (spec: 250 ms).",
    )
    slow_poll_interval: float = Field(
        2.0,
        ge=0.25,
        le=300.0,
        validation_alias=_env("slow_poll_interval", "GPU_SLOW_POLL_INTERVAL"),
        description="Seconds between samples of expensive metrics: processes, PCIe, ECC, storage.",
    )
    nvml_retry_interval: float = Field(
        30.0,
        ge=1.0,
        le=3600.0,
        validation_alias=_env("nvml_retry_interval", "NVML_RETRY_INTERVAL"),
        description="Seconds between attempts to initialise NVML when the driver is not available.",
    )
    simulate_gpus: int = Field(
        0,
        ge=0,
        le=64,
        validation_alias=_env("simulate_gpus"),
        description="Serve this many simulated GPUs instead of reading NVML (0 = real GPUs).",
    )
    simulate_lost_gpu: bool = Field(
        False,
        validation_alias=_env("simulate_lost_gpu"),
        description="With simulated GPUs, let the last one fall off the bus after a while.",
    )
    simulate_seed: int | None = Field(
        None, validation_alias=_env("simulate_seed"), description="Seed for repeatable simulations."
    )
    log_level: LogLevel = Field(
        "info", validation_alias=_env("log_level", "LOG_LEVEL"), description="Console and file log level."
    )
    log_file: Path | None = Field(
        None,
        validation_alias=_env("log_file", "LOG_FILE"),
        description="Rotating log file (10 MB x 5). Empty disables it. Default: the user log directory.",
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)),
        validation_alias=_env("data_dir"),
        description="Where the service keeps its files.",
    )

    database_url: str | None = Field(
        None,
        validation_alias=_env("database_url", "DATABASE_URL"),
        description="postgresql://... for PostgreSQL; default: an SQLite file in the data directory.",
    )
    raw_retention_hours: float = Field(
        48.0,
        gt=0,
        le=24 * 90,
        validation_alias=_env("raw_retention_hours", "RAW_RETENTION_HOURS"),
        description="How long 1-second samples are kept.",
    )
    metrics_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        validation_alias=_env("metrics_retention_days", "METRICS_RETENTION_DAYS"),
        description="How long 1-minute rollups are kept (spec: 30 days).",
    )
    hourly_retention_days: int = Field(
        365,
        ge=1,
        le=3650,
        validation_alias=_env("hourly_retention_days", "HOURLY_RETENTION_DAYS"),
        description="How long 1-hour rollups are kept.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lowercase_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_file", mode="before")
    @classmethod
    def _empty_disables_log_file(cls, value: Any) -> Any:
        return None if value in ("", "-", "none") else value

    @model_validator(mode="after")
    def _slow_not_faster_than_fast(self) -> Settings:
        if "slow_poll_interval" not in self.model_fields_set:
            self.slow_poll_interval = max(self.slow_poll_interval, self.gpu_poll_interval)
        elif self.slow_poll_interval < self.gpu_poll_interval:
            raise ValueError(
                f"GPU_SLOW_POLL_INTERVAL ({self.slow_poll_interval}) must be at least "
                f"GPU_POLL_INTERVAL ({self.gpu_poll_interval})"
            )
        return self

    @property
    def default_log_file(self) -> Path:
        return Path(platformdirs.user_log_dir(APP_NAME)) / "gpu_service.log"


def env_name(name: str) -> str:
    """The environment variable a user would set for a field (given by name or by any of its aliases):
    the spec's name where it has one, else ours."""
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else []
        if name.lower() == field_name or name.upper() in (c.upper() for c in choices):
            spec_names = [c for c in choices if c.isupper() and not c.startswith(ENV_PREFIX)]
            return spec_names[0] if spec_names else ENV_PREFIX + field_name.upper()
    return name


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the setting, what was given and what is allowed."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        setting = env_name(location[0]) if location else "settings"
        given = problem.get("input")
        given_text = "" if given is None or isinstance(given, dict) else f" (got {given!r})"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"invalid setting {setting}: {message}{given_text}")
    return "; ".join(lines)
