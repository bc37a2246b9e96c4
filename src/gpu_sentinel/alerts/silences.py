"""Silences compiled for the engine: a silence mutes an alert when every matcher matches its labels and
the time lies in the silence's window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gpu_sentinel.alerts.events import instance_name
from gpu_sentinel.alerts.rules import RuleSpec, SilenceSpec


def labels(rule: RuleSpec, key: int) -> dict[str, str]:
    return {
        "rule_id": rule.id,
        "rule": rule.name,
        "metric": rule.metric,
        "severity": rule.severity,
        "gpu": "" if key < 0 else str(key),
        "instance": instance_name(key),
    }


@dataclass(frozen=True, slots=True)
class CompiledSilence:
    spec: SilenceSpec
    starts_at: float
    matchers: tuple[tuple[str, re.Pattern[str] | str], ...]

    @classmethod
    def compile(cls, spec: SilenceSpec, created_at: float) -> CompiledSilence:
        matchers = tuple((m.label, re.compile(m.value) if m.regex else m.value) for m in spec.matchers)
        return cls(spec, spec.starts_at if spec.starts_at is not None else created_at, matchers)

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.spec.ends_at

    def mutes(self, rule: RuleSpec, key: int, now: float) -> bool:
        return self.mutes_labels(labels(rule, key), now)

    def mutes_labels(self, alert: Mapping[str, str], now: float) -> bool:
        """Whether the silence mutes an alert with these labels (``labels``' keys) at ``now``."""
        if not self.active(now):
            return False
        for label, expected in self.matchers:
            value = alert[label]
            if isinstance(expected, str):
                if value != expected:
                    return False
            elif not expected.fullmatch(value):
                return False
        return True
