"""Notification channels as a user configures them, and their credentials as write-only values: the
signing secret, the SMTP password, HTTP headers and a URL that carries a token are stored and used but
shown only masked; a replacement that leaves one out, or sends the mask back, keeps the stored value.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gpu_sentinel.alerts.errors import AlertConfigError
from gpu_sentinel.alerts.rules import SLUG, Severity

ChannelType = Literal["webhook", "slack", "discord", "email"]
MASK = "********"
_TOKEN_SEGMENT = re.compile(r"(?=[^/]*\d)[A-Za-z0-9_~.+=-]{16,}")


def url_has_credentials(url: str, channel_type: str) -> bool:
    """Slack and Discord URLs are the credential; any other URL carries one in its user information,
    query, fragment or a token-like path segment (16 or more characters with a digit)."""
    if channel_type in ("slack", "discord"):
        return True
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.query or parts.fragment:
        return True
    return any(_TOKEN_SEGMENT.fullmatch(segment) for segment in parts.path.split("/"))


def masked_url(url: str, channel_type: str) -> str:
    """The URL as the API shows it: only its scheme, host and port when it carries a credential."""
    if not url_has_credentials(url, channel_type):
        return url
    parts = urlsplit(url)
    origin = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{origin}/{MASK}"


class ChannelSettings(BaseModel):
    """What every view of a channel has; ``url`` and ``headers`` may hold credentials."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SLUG)
    type: ChannelType
    enabled: bool = True
    min_severity: Severity = Field("info", description="Only alerts at least this severe use the channel.")
    url: str | None = Field(None, description="Webhook, Slack or Discord URL.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    starttls: bool = Field(True, description="Upgrade with STARTTLS (port 587).")
    use_tls: bool = Field(False, description="Implicit TLS from the start (port 465).")
    ca_file: str | None = Field(None, description="CA bundle that signs the SMTP server's certificate.")
    username: str | None = None
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


class _ChannelInput(ChannelSettings):
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key for X-GPU-Sentinel-Signature.")
    password: SecretStr | None = Field(None, description="SMTP password.")


class ChannelSpec(_ChannelInput):
    """A notification channel. Its credentials are write-only: the API shows ``ChannelView``."""

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
        self._refuse_masks()
        return self

    def _refuse_masks(self) -> None:
        """A mask is what the API shows for a stored value; stored, it would be a broken credential."""
        masked = [name for name, value in self.headers.items() if value == MASK]
        masked += [
            n for n in ("secret", "password") if (v := getattr(self, n)) and v.get_secret_value() == MASK
        ]
        if self.url is not None and MASK in self.url:
            masked.append("url")
        if masked:
            raise ValueError(
                f"{', '.join(masked)}: {MASK} is the mask shown for a stored value, not a value; "
                "send the real value, or leave the field out when replacing a channel to keep it"
            )

    def redact(self, text: str) -> str:
        """``text`` (an error message, say) with every credential of this channel replaced by the mask."""
        values = [*self.headers.values(), *(s.get_secret_value() for s in (self.secret, self.password) if s)]
        if self.url is not None and url_has_credentials(self.url, self.type):
            values.append(self.url)
        for value in sorted(filter(None, values), key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def stored(self) -> dict[str, Any]:
        """Everything, secrets included, for the database."""
        data = self.model_dump(mode="json")
        data["secret"] = self.secret.get_secret_value() if self.secret else None
        data["password"] = self.password.get_secret_value() if self.password else None
        return data


class ChannelReplacement(_ChannelInput):
    """The body of a channel replacement (PUT). A credential left out, or sent back as its mask, keeps
    the stored value; ``null`` removes a secret or password, ``{}`` removes every header. The read-only
    flags of ``ChannelView`` are accepted and ignored, so what GET returned can be sent back."""

    url_set: bool | None = Field(None, exclude=True, description="Read-only; ignored.")
    secret_set: bool | None = Field(None, exclude=True, description="Read-only; ignored.")
    password_set: bool | None = Field(None, exclude=True, description="Read-only; ignored.")

    def applied_to(self, previous: ChannelSpec) -> ChannelSpec:
        """The replacement with the previous channel's credentials where this one keeps them."""
        given = self.model_fields_set
        data = {**self.model_dump(), "name": previous.name}
        for name in ("secret", "password"):
            value: SecretStr | None = getattr(self, name)
            if name not in given or (value is not None and value.get_secret_value() == MASK):
                data[name] = getattr(previous, name)
        if "url" not in given or (self.url is not None and MASK in self.url):
            data["url"] = previous.url
        if "headers" not in given:
            data["headers"] = previous.headers
        else:
            data["headers"] = {
                key: previous.headers.get(key, value) if value == MASK else value
                for key, value in self.headers.items()
            }
        try:
            return ChannelSpec.model_validate(data)
        except ValidationError as error:
            raise AlertConfigError.from_validation(error) from error


class ChannelView(ChannelSettings):
    """A channel as the API shows it (to admins only): credentials masked, with whether each is set."""

    url_set: bool = Field(
        description="Whether a URL is stored; ``url`` shows it masked when it carries a token."
    )
    secret_set: bool
    password_set: bool

    @classmethod
    def of(cls, channel: ChannelSpec) -> ChannelView:
        data = channel.model_dump(exclude={"secret", "password"})
        url = channel.url
        return cls.model_validate(
            {
                **data,
                "url": None if url is None else masked_url(url, channel.type),
                "headers": dict.fromkeys(channel.headers, MASK),
                "url_set": url is not None,
                "secret_set": channel.secret is not None,
                "password_set": channel.password is not None,
            }
        )
