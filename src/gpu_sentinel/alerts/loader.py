"""Reads the start-up alerts file (ALERT_RULES_FILE): rules, channels and silences as YAML, JSON or TOML,
validated exactly like the API's input."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.rules import RuleSpec, SilenceSpec


class AlertsFileError(ValueError):
    """The alerts file cannot be read or is invalid; the message names the file and the problem."""


class AlertsFile(BaseModel):
    """The start-up file named by ALERT_RULES_FILE (YAML, JSON or TOML)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec] = Field(default_factory=list)
    channels: list[ChannelSpec] = Field(default_factory=list)
    silences: list[SilenceSpec] = Field(default_factory=list)


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        return importlib.import_module("tomllib").loads(text)
    raise AlertsFileError(f"{path}: unknown format {suffix!r}; use .yaml, .yml, .json or .toml")


def load_alerts_file(path: Path) -> AlertsFile:
    try:
        data = _parse(path, path.read_text(encoding="utf-8"))
    except AlertsFileError:
        raise
    except Exception as error:
        raise AlertsFileError(f"{path}: {error}") from error
    try:
        return AlertsFile.model_validate(data or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise AlertsFileError(f"{path}: {problems}") from error
