"""All settings in one place, read from the environment (spec names work) and overridden by CLI flags.

Nothing is instantiated at import time: ``cli.py`` builds one ``Settings`` and passes it down, and tests
build their own in a line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "gpu-sentinel"
ENV_PREFIX = "GPU_SENTINEL_"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
MIN_SECRET_BYTES = 32
PLACEHOLDER_SECRET_WORDS = ("changeme", "change-me", "change_me", "changethis", "placeholder", "your-secret")
DATABASE_SCHEMES = ("postgresql://", "postgres://", "sqlite:///")


class SettingError(ValueError):
    """A setting that is well-formed but cannot be used here (a data directory that cannot be written, an
    alerts file that does not parse); ``field`` lets the CLI name the flag or variable it came from."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def _env(name: str, *spec_names: str) -> AliasChoices:
    """Accept our prefixed variable, the spec's own variable names, and the field name itself."""
    return AliasChoices(ENV_PREFIX + name.upper(), *spec_names, name)


def _split_checked(value: Any, problem: Callable[[str], str | None]) -> Any:
    """A comma-separated environment value as a list of its non-empty, stripped items, each checked."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return items
    items = [str(item).strip() for item in items if str(item).strip()]
    for item in items:
        message = problem(item)
        if message:
            raise ValueError(message)
    return items


def _network_problem(proxy: str) -> str | None:
    try:
        ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        return f"{proxy!r} is not an IP address or a CIDR like 10.0.0.0/8"
    return None


def _host_name_problem(host: str) -> str | None:
    if "://" in host or "/" in host or "*" in host:
        return f"{host!r} is not a host name like gpu.example.com ('*' is refused)"
    return None


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
    simulate_mig_gpus: int = Field(
        0,
        ge=0,
        le=64,
        validation_alias=_env("simulate_mig_gpus"),
        description="With simulated GPUs, put the last N in MIG mode: four GPU instances each "
        "(3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb) with workloads of their own.",
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

    node_name: str | None = Field(
        None,
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        validation_alias=_env("node_name"),
        description="This node's name in a fleet (letters, digits, '.', '_', '-'). Default: the host name.",
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
    history_flush_interval: float = Field(
        1.0,
        gt=0,
        le=60.0,
        validation_alias=_env("history_flush_interval"),
        description="Seconds between history commits: the most a crash of the service can lose.",
    )
    history_spill_max_mb: float = Field(
        512.0,
        ge=0,
        validation_alias=_env("history_spill_max_mb"),
        description="Size bound of the file that holds samples while the database is unreachable.",
    )
    history_retry_interval: float = Field(
        5.0,
        gt=0,
        le=300.0,
        validation_alias=_env("history_retry_interval"),
        description="Seconds between attempts to reach the history database while it is unavailable.",
    )
    history_cache_ttl: float = Field(
        2.0,
        ge=0,
        le=300.0,
        validation_alias=_env("history_cache_ttl"),
        description="Seconds a history query's answer is reused for identical queries.",
    )

    jwt_secret: SecretStr | None = Field(
        None,
        validation_alias=_env("jwt_secret"),
        description="HS256 token signing secret, at least 32 bytes. Default: generated on first start and "
        "kept in the data directory (jwt_secret, mode 0600).",
    )
    access_token_minutes: int = Field(
        60,
        ge=1,
        le=24 * 60,
        validation_alias=_env("access_token_minutes", "JWT_EXPIRE_MINUTES"),
        description="Lifetime of access tokens (spec: 60 minutes).",
    )
    refresh_token_hours: float = Field(
        168.0,
        gt=0,
        le=24 * 90,
        validation_alias=_env("refresh_token_hours"),
        description="How long a login lasts: refresh tokens rotate within it and never outlive it.",
    )
    anonymous_read: bool | None = Field(
        None,
        validation_alias=_env("anonymous_read"),
        description="Allow reads without a token. Default: on when bound to a loopback address, else off.",
    )
    public_metrics: bool = Field(
        False,
        validation_alias=_env("public_metrics"),
        description="Serve /metrics without a token, for Prometheus scrapers.",
    )
    prometheus_process_labels: bool = Field(
        False,
        validation_alias=_env("prometheus_process_labels"),
        description="Add container, pod, namespace and SLURM job labels to the per-process /metrics series.",
    )
    prometheus_process_utilization: bool = Field(
        False,
        validation_alias=_env("prometheus_process_utilization"),
        description="Export per-process SM, memory, encoder and decoder utilization on /metrics: one "
        "series per GPU process (PID label), so off by default.",
    )
    allow_insecure_bind: bool = Field(
        False,
        validation_alias=_env("allow_insecure_bind"),
        description="Start even though anonymous reads are allowed on a non-loopback address.",
    )
    process_actions: bool | None = Field(
        None,
        validation_alias=_env("process_actions"),
        description="Let admins terminate, pause and resume GPU processes from the API and dashboard. "
        "Default: on when bound to a loopback address, else off.",
    )
    process_terminate_grace_s: float = Field(
        5.0,
        ge=0.1,
        le=300.0,
        validation_alias=_env("process_terminate_grace_s"),
        description="Seconds a terminated process has to exit after SIGTERM before it gets SIGKILL.",
    )
    rate_limit: float = Field(
        10.0,
        ge=0,
        le=1_000_000,
        validation_alias=_env("rate_limit", "RATE_LIMIT"),
        description="Requests per second per client address (spec: 10); 0 disables rate limiting.",
    )
    rate_limit_burst: int = Field(
        20,
        ge=1,
        le=1_000_000,
        validation_alias=_env("rate_limit_burst"),
        description="Requests a client may make at once before the rate limit applies.",
    )
    max_body_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        validation_alias=_env("max_body_bytes"),
        description="Largest request body accepted; larger ones get HTTP 413.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("cors_origins", "CORS_ORIGINS"),
        description="Browser origins allowed to call the API, comma-separated. Default: none (same origin).",
    )
    stream_heartbeat_interval: float = Field(
        15.0,
        gt=0,
        le=300.0,
        validation_alias=_env("stream_heartbeat_interval"),
        description="Seconds of silence after which the live stream sends a heartbeat.",
    )
    stream_max_clients: int = Field(
        1000,
        ge=1,
        le=100_000,
        validation_alias=_env("stream_max_clients"),
        description="Most live stream subscribers at once.",
    )

    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("trusted_proxies"),
        description="Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated)."
        " Default: none (proxy headers are ignored).",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("allowed_hosts"),
        description="Host names, besides loopback ones, that an anonymous-read service answers to, "
        "comma-separated (guards against DNS rebinding).",
    )

    alerts_enabled: bool = Field(
        True, validation_alias=_env("alerts_enabled"), description="Evaluate alert rules and notify."
    )
    alert_rules_file: Path | None = Field(
        None,
        validation_alias=_env("alert_rules_file", "ALERT_RULES_FILE"),
        description="YAML, JSON or TOML file of alert rules, channels and silences applied at start-up.",
    )
    alert_cooldown_minutes: float = Field(
        5.0,
        ge=0,
        le=7 * 24 * 60,
        validation_alias=_env("alert_cooldown_minutes", "ALERT_COOLDOWN_MINUTES"),
        description="Least time between two firing notifications of the same alert (spec: 5).",
    )
    alert_repeat_interval_minutes: float = Field(
        240.0,
        ge=0,
        le=30 * 24 * 60,
        validation_alias=_env("alert_repeat_interval_minutes", "ALERT_REPEAT_INTERVAL_MINUTES"),
        description="Re-notify a still-firing, unacknowledged alert this often; 0 never repeats.",
    )
    alert_history_retention_days: float = Field(
        90.0,
        gt=0,
        le=3650,
        validation_alias=_env("alert_history_retention_days", "ALERT_HISTORY_RETENTION_DAYS"),
        description="How long alert transitions and delivery records are kept.",
    )
    alert_retry_initial_s: float = Field(
        2.0,
        gt=0,
        le=3600,
        validation_alias=_env("alert_retry_initial_s"),
        description="First retry delay of a failed notification; doubles per attempt, with jitter.",
    )
    alert_retry_max_s: float = Field(
        10.0,
        gt=0,
        le=86400,
        validation_alias=_env("alert_retry_max_s"),
        description="Longest delay between two attempts to reach a failing channel.",
    )
    alert_delivery_max_age_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 30,
        validation_alias=_env("alert_delivery_max_age_hours"),
        description="A notification still undelivered after this long is given up and marked failed.",
    )
    alert_watchdog_interval_s: float = Field(
        1.0,
        gt=0,
        le=60,
        validation_alias=_env("alert_watchdog_interval_s"),
        description="How often the sampler-stalled watchdog runs, independent of snapshots.",
    )

    # -- fleet: live state in a shared PostgreSQL, and hubs that show every node --------------------
    hub: bool = Field(
        False,
        validation_alias=_env("hub"),
        description="Serve the fleet API (/api/v1/fleet/*): every node that shares DATABASE_URL.",
    )
    advertise_url: str | None = Field(
        None,
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        validation_alias=_env("advertise_url"),
        description="This node's /metrics URL as hubs list it for Prometheus discovery. Default: "
        "http://HOST:PORT/metrics (the host name when bound to every address).",
    )
    fleet_heartbeat_s: float = Field(
        1.0,
        ge=0.1,
        le=10.0,
        validation_alias=_env("fleet_heartbeat_s"),
        description="Seconds between two writes of this node's live state and heartbeat (PostgreSQL only).",
    )
    fleet_online_within_s: float = Field(
        3.0,
        gt=0,
        le=3600,
        validation_alias=_env("fleet_online_within_s"),
        description="A node whose last heartbeat is at most this old is online; older, it is stale.",
    )
    fleet_offline_after_s: float = Field(
        30.0,
        gt=0,
        le=86400,
        validation_alias=_env("fleet_offline_after_s"),
        description="A node silent for longer is offline, and the fleet rule 'node offline' fires.",
    )

    @model_validator(mode="after")
    def _fleet_bounds_in_order(self) -> Settings:
        if not self.fleet_heartbeat_s <= self.fleet_online_within_s < self.fleet_offline_after_s:
            raise ValueError(
                "fleet bounds must satisfy GPU_SENTINEL_FLEET_HEARTBEAT_S <= "
                "GPU_SENTINEL_FLEET_ONLINE_WITHIN_S < GPU_SENTINEL_FLEET_OFFLINE_AFTER_S"
                f" (got {self.fleet_heartbeat_s:g}, "
                f"{self.fleet_online_within_s:g}, {self.fleet_offline_after_s:g})"
            )
        return self

    @model_validator(mode="after")
    def _mig_gpus_among_simulated(self) -> Settings:
        if self.simulate_mig_gpus > self.simulate_gpus:
            raise ValueError(
                f"GPU_SENTINEL_SIMULATE_MIG_GPUS ({self.simulate_mig_gpus}) is more than the simulated GPUs "
                f"({self.simulate_gpus}); use --simulate-mig with --simulate N, N at least as large"
            )
        return self

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"must be at least {MIN_SECRET_BYTES} bytes; generate one with "
                "'python -c \"import secrets; print(secrets.token_urlsafe(48))\"' or leave it unset"
            )
        if any(word in secret.lower() for word in PLACEHOLDER_SECRET_WORDS):
            raise ValueError("is a placeholder; set a random secret or leave it unset")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(DATABASE_SCHEMES):
            scheme = value.partition("://")[0] if "://" in value else value
            raise ValueError(
                f"unsupported database {scheme!r}: use postgresql://user:password@host/database, "
                "sqlite:///path/to/file, or leave it unset for SQLite in the data directory"
            )
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        origins = [o.strip() for o in value.split(",")] if isinstance(value, str) else value
        if not isinstance(origins, list):
            return origins
        origins = [o.rstrip("/") for o in origins if o]
        for origin in origins:
            if origin == "*" or "://" not in origin:
                raise ValueError(f"{origin!r} is not an origin like https://dash.example.com; '*' is refused")
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: Any) -> Any:
        return _split_checked(value, _network_problem)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: Any) -> Any:
        return _split_checked(value, _host_name_problem)

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


SECRET_SETTINGS = (ENV_PREFIX + "JWT_SECRET", "DATABASE_URL")


def setting_name(field: str, flags: Mapping[str, str] | None = None) -> str:
    """How the user gave a setting: the flag when it came from one, else its environment variable."""
    if flags and field in flags:
        return flags[field]
    return env_name(field)


def describe_validation_error(error: ValidationError, flags: Mapping[str, str] | None = None) -> str:
    """One line naming each problem's setting (by ``flags``, field to flag, when it came from a flag),
    what was given and what is allowed."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        setting = setting_name(location[0], flags) if location else "settings"
        given = problem.get("input")
        # Secrets and URLs that may hold a password are never echoed.
        hidden = bool(location) and env_name(location[0]) in SECRET_SETTINGS
        given_text = "" if given is None or hidden or isinstance(given, dict) else f" (got {given!r})"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"invalid setting {setting}: {message}{given_text}")
    return "; ".join(lines)
