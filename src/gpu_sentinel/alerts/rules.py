"""What a user configures: rules, channels and silences, validated by pydantic so the API, the config
file and the database all refuse the same mistakes with the same messages."""

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
    SecretStr,
    field_validator,
    model_validator,
)

from gpu_sentinel.alerts import catalogue

Condition = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["info", "warning", "critical"]
ChannelType = Literal["webhook", "slack", "discord", "email"]
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


class ChannelSpec(BaseModel):
    """A notification channel. Secrets (``secret``, ``password``) are write-only: never returned."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG)
    type: ChannelType
    enabled: bool = True
    min_severity: Severity = Field("info", description="Only alerts at least this severe use the channel.")
    url: str | None = Field(None, description="Webhook, Slack or Discord URL.")
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key for X-GPU-Sentinel-Signature.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    starttls: bool = Field(True, description="Upgrade with STARTTLS (port 587).")
    use_tls: bool = Field(False, description="Implicit TLS from the start (port 465).")
    ca_file: str | None = Field(None, description="CA bundle that signs the SMTP server's certificate.")
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = Field(None, description="From address.")
    recipients: list[str] = Field(default_factory=list)
    timeout_s: float = Field(10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https:// (got {value!r})")
        return value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _complete(self) -> ChannelSpec:
        if self.type == "email":
            missing = [n for n in ("smtp_host", "sender") if getattr(self, n) is None]
            if not self.recipients:
                missing.append("recipients")
            if missing:
                raise ValueError(f"an email channel needs {', '.join(missing)}")
            if self.starttls and self.use_tls:
                raise ValueError("choose starttls or use_tls, not both")
        elif self.url is None:
            raise ValueError(f"a {self.type} channel needs url")
        return self

    def stored(self) -> dict[str, Any]:
        """Everything, secrets included, for the database."""
        data = self.model_dump(mode="json")
        data["secret"] = self.secret.get_secret_value() if self.secret else None
        data["password"] = self.password.get_secret_value() if self.password else None
        return data

    def public(self) -> dict[str, Any]:
        """What the API shows: secrets replaced by whether they are set."""
        data = self.model_dump(mode="json", exclude={"secret", "password"})
        data["secret_set"] = self.secret is not None
        data["password_set"] = self.password is not None
        return data

    def keeping_secrets_of(self, previous: ChannelSpec) -> ChannelSpec:
        """An update that omits a secret keeps the old one, since clients never see it to send it back."""
        updates: dict[str, Any] = {}
        if self.secret is None and "secret" not in self.model_fields_set:
            updates["secret"] = previous.secret
        if self.password is None and "password" not in self.model_fields_set:
            updates["password"] = previous.password
        return self.model_copy(update=updates)


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


class AlertsFile(BaseModel):
    """The start-up file named by ALERT_RULES_FILE (YAML, JSON or TOML)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec] = Field(default_factory=list)
    channels: list[ChannelSpec] = Field(default_factory=list)
    silences: list[SilenceSpec] = Field(default_factory=list)
