"""Alerting: rules over the snapshot's metrics and events, a state machine per alert, and notifications
through a persistent outbox to e-mail, webhooks, Slack, Discord and the browser."""

from __future__ import annotations

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.engine import AlertEngine
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.rules import RuleSpec, SilenceSpec

__all__ = ["AlertEngine", "AlertManager", "ChannelSpec", "RuleSpec", "SilenceSpec"]
