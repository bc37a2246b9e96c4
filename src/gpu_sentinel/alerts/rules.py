"""What a user configures: rules and silences, validated by pydantic so the API, the config file and the
database all refuse the same mistakes with the same messages (channels: see ``channels``)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gpu_sentinel.alerts import catalogue

Condition = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
SLUG = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def parse_duration(value: Any) -> Any:
    """Seconds as a number, or text such as ``90s``, ``5m``, ``1h`` (Prometheus style)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration: use seconds or a number with ms, s, m, h or d")
        return float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0, le=30 * 86400)]


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class RuleSpec(BaseModel):
    """One alert rule. Durations accept seconds or ``5m``-style text; ``for`` is accepted for ``for_s``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(default_factory=new_id, pattern=SLUG, description="Stable identifier (slug).")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    enabled: bool = True
    metric: str = Field(description="A name from GET /api/v1/alerts/metrics.")
    condition: Condition = ">"
    threshold: float
    clear_threshold: float | None = Field(
        None, description="While firing, the condition is held against this value instead (hysteresis)."
    )
    for_s: Duration = Field(
        0.0, validation_alias=AliasChoices("for_s", "for"), description="How long the condition must hold."
    )
    keep_firing_for_s: Duration = Field(
        0.0,
        validation_alias=AliasChoices("keep_firing_for_s", "keep_firing_for"),
        description="Stay firing this long after the condition clears.",
    )
    severity: Severity = "warning"
    gpu_id: int | None = Field(None, ge=0, le=2**15 - 1, description="One GPU; none means every GPU.")
    channels: list[str] | None = Field(None, description="Channel names; none means every enabled channel.")
    cooldown_s: Duration | None = Field(
        None,
        validation_alias=AliasChoices("cooldown_s", "cooldown"),
        description="No new firing notification for the same alert sooner than this. "
        "Default: ALERT_COOLDOWN_MINUTES.",
    )
    repeat_interval_s: Duration | None = Field(
        None,
        validation_alias=AliasChoices("repeat_interval_s", "repeat_interval"),
        description="Re-notify a still-firing, unacknowledged alert this often. Default: "
        "ALERT_REPEAT_INTERVAL_MINUTES; 0 never repeats.",
    )
    builtin: bool = Field(False, description="One of the defaults shipped with the service.")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in catalogue.METRICS:
            names = ", ".join(sorted(catalogue.METRICS))
            raise ValueError(f"unknown metric {value!r}; known metrics: {names}")
        return value

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        metric = catalogue.METRICS[self.metric]
        if self.gpu_id is not None and metric.scope == "host":
            raise ValueError(f"gpu_id does not apply to the host metric {self.metric}")
        if self.clear_threshold is not None:
            if self.condition in ("==", "!="):
                raise ValueError("clear_threshold needs one of the conditions >, >=, <, <=")
            above = self.condition in (">", ">=")
            if (above and self.clear_threshold > self.threshold) or (
                not above and self.clear_threshold < self.threshold
            ):
                side = "at or below" if above else "at or above"
                raise ValueError(
                    f"clear_threshold ({self.clear_threshold:g}) must be {side} threshold "
                    f"({self.threshold:g}) for condition {self.condition}"
                )
        return self

    @property
    def scope(self) -> Literal["host", "gpu", "all_gpus"]:
        if catalogue.METRICS[self.metric].scope == "host":
            return "host"
        return "all_gpus" if self.gpu_id is None else "gpu"


class RuleUpdate(BaseModel):
    """A partial change to a rule (PATCH): only the fields given are replaced."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    enabled: bool | None = None
    metric: str | None = None
    condition: Condition | None = None
    threshold: float | None = None
    clear_threshold: float | None = None
    for_s: Duration | None = Field(None, validation_alias=AliasChoices("for_s", "for"))
    keep_firing_for_s: Duration | None = Field(
        None, validation_alias=AliasChoices("keep_firing_for_s", "keep_firing_for")
    )
    severity: Severity | None = None
    gpu_id: int | None = Field(None, ge=0, le=2**15 - 1)
    channels: list[str] | None = None
    cooldown_s: Duration | None = Field(None, validation_alias=AliasChoices("cooldown_s", "cooldown"))
    repeat_interval_s: Duration | None = Field(
        None, validation_alias=AliasChoices("repeat_interval_s", "repeat_interval")
    )

    def apply(self, rule: RuleSpec) -> RuleSpec:
        """The rule with these changes, validated as a whole."""
        changes = self.model_dump(exclude_unset=True)
        return RuleSpec.model_validate({**rule.model_dump(), **changes})


class Matcher(BaseModel):
    """Matches one label of an alert: rule_id, rule, metric, severity, gpu or instance."""

    model_config = ConfigDict(extra="forbid")

    label: Literal["rule_id", "rule", "metric", "severity", "gpu", "instance"]
    value: str
    regex: bool = False

    @model_validator(mode="after")
    def _valid_regex(self) -> Matcher:
        if self.regex:
            try:
                re.compile(self.value)
            except re.error as error:
                raise ValueError(f"invalid regular expression {self.value!r}: {error}") from error
        return self


class SilenceSpec(BaseModel):
    """Mutes notifications of every alert its matchers all match, between ``starts_at`` and ``ends_at``
    (Unix seconds). Transitions are still recorded."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id, pattern=SLUG)
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: float | None = Field(None, description="Default: now.")
    ends_at: float
    comment: str = Field("", max_length=2000)
    created_by: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SilenceSpec:
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self
