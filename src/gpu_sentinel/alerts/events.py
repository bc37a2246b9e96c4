"""What the engine emits: a transition of one alert instance, and the notification payload built from it
once, at the moment it happens, so a delivery days later still tells what was true then."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from gpu_sentinel.alerts import catalogue
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.snapshot import GPUProcess

State = Literal["pending", "firing", "resolved", "inactive"]
Kind = Literal["pending", "firing", "resolved", "inactive", "repeat"]
Suppression = Literal["silenced", "cooldown", "acknowledged"]
PAYLOAD_VERSION = 1
HOSTNAME = socket.gethostname()


def instance_name(key: int) -> str:
    return "host" if key < 0 else f"gpu{key}"


def alert_id(rule_id: str, key: int) -> str:
    return f"{rule_id}:{instance_name(key)}"


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()


OWNER_KEYS = ("slurm_job_id", "slurm_user", "pod_namespace", "pod_name", "pod_uid", "container_id")


def holder(process: GPUProcess) -> dict[str, Any]:
    """A process holding a GPU as a notification records it, with its owner where that is known."""
    found: dict[str, Any] = {
        "pid": process.pid,
        "name": process.name,
        "user": process.user,
        "gpu_memory_bytes": process.gpu_memory_bytes,
    }
    for key in OWNER_KEYS:
        value = getattr(process, key)
        if value is not None:
            found[key] = value
    return found


def describe_holder(found: dict[str, Any]) -> str:
    """``python (pid 4242, user alice, SLURM job 77 of alice, pod ml/trainer, container 3f2c1b0a9e8d)``."""
    parts = [f"pid {found['pid']}", f"user {found.get('user') or 'unknown'}"]
    if found.get("slurm_job_id"):
        owner = found.get("slurm_user")
        parts.append(f"SLURM job {found['slurm_job_id']}" + (f" of {owner}" if owner else ""))
    pod = found.get("pod_name") or found.get("pod_uid")
    if pod:
        namespace = found.get("pod_namespace")
        parts.append(f"pod {namespace}/{pod}" if namespace else f"pod {pod}")
    if found.get("container_id"):
        parts.append(f"container {found['container_id'][:12]}")
    return f"{found['name']} ({', '.join(parts)})"


@dataclass(slots=True)
class Transition:
    """One step of one alert instance. ``notify`` says whether channels hear of it."""

    id: str
    rule: RuleSpec
    key: int
    state: State
    previous: State
    kind: Kind
    value: float | None
    threshold: float
    timestamp: float
    active_since: float
    notify: bool
    suppressed: Suppression | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return alert_id(self.rule.id, self.key)

    @property
    def gpu_id(self) -> int | None:
        return None if self.key < 0 else self.key

    @property
    def instance(self) -> str:
        return instance_name(self.key)

    def summary(self) -> str:
        metric = catalogue.METRICS[self.rule.metric]
        where = "host" if self.key < 0 else f"GPU {self.key}"
        unit = f" {metric.unit}" if metric.unit and metric.unit not in ("xid",) else ""
        value = "n/a" if self.value is None else f"{self.value:.4g}{unit}"
        status = "RESOLVED" if self.state in ("resolved", "inactive") else self.state.upper()
        text = (
            f"[{status}] {self.rule.name} on {where}: {metric.name} = {value} "
            f"({self.rule.condition} {self.rule.threshold:g}{unit})"
        )
        holders = self.details.get("processes") or []
        if holders and self.state == "firing":
            text += "; held by " + ", ".join(describe_holder(p) for p in holders)
        return text

    def payload(self) -> dict[str, Any]:
        """The documented webhook body, less the per-channel idempotency key."""
        rule = self.rule
        metric = catalogue.METRICS[rule.metric]
        return {
            "version": PAYLOAD_VERSION,
            "transition_id": self.id,
            "alert_id": self.alert_id,
            "status": "firing" if self.state == "firing" else "resolved",
            "kind": self.kind,
            "summary": self.summary(),
            "severity": rule.severity,
            "rule": {
                "id": rule.id,
                "name": rule.name,
                "description": rule.description,
                "metric": rule.metric,
                "condition": rule.condition,
                "threshold": rule.threshold,
                "clear_threshold": rule.clear_threshold,
                "for_s": rule.for_s,
            },
            "instance": self.instance,
            "gpu": self.details.get("gpu"),
            "value": self.value,
            "unit": metric.unit,
            "started_at": iso(self.active_since),
            "timestamp": iso(self.timestamp),
            "host": HOSTNAME,
            "processes": self.details.get("processes", []),
        }
