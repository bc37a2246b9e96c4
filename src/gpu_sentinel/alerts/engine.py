"""The alert state machine: inactive -> pending -> firing -> resolved, per rule and instance (a GPU or
the host), with Prometheus semantics (``for``, ``keep_firing_for``) plus hysteresis, and Alertmanager's
notification policy (cooldown, repeat interval, silences, acknowledgement).

Pure and single-threaded: it takes snapshots and a clock reading and returns transitions; the caller
persists and delivers them. Rules are compiled once so a snapshot costs a comparison per rule in the
common case: a rule with no active instance is skipped on the metric's maximum (or minimum) across GPUs.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_sentinel.alerts import catalogue
from gpu_sentinel.alerts.events import Kind, State, Suppression, Transition, alert_id, holder
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.alerts.silences import CompiledSilence
from gpu_sentinel.snapshot import GPUSample, Snapshot

HOST_KEY = -1
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_EVENT_READERS = ("event.xid", "event.ecc_uncorrectable")


@dataclass(slots=True)
class Instance:
    """One active (pending or firing) alert."""

    rule_id: str
    key: int
    state: State
    active_since: float
    last_true: float
    value: float | None
    fired_at: float | None = None
    notified: bool = False
    last_notified_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None

    @property
    def alert_id(self) -> str:
        return alert_id(self.rule_id, self.key)


class CompiledRule:
    """A rule ready for the hot loop: its comparison, reader and active instances."""

    __slots__ = (
        "active",
        "cooldown_s",
        "for_s",
        "gpu_id",
        "hold_threshold",
        "host",
        "id",
        "keep_s",
        "last_notified",
        "metric",
        "op",
        "quick",
        "repeat_s",
        "spec",
        "threshold",
    )

    def __init__(self, spec: RuleSpec, default_cooldown_s: float, default_repeat_s: float) -> None:
        self.spec = spec
        self.id = spec.id
        self.metric = spec.metric
        self.host = catalogue.METRICS[spec.metric].scope == "host"
        self.op = _OPS[spec.condition]
        self.threshold = spec.threshold
        self.hold_threshold = spec.threshold if spec.clear_threshold is None else spec.clear_threshold
        self.quick = 1 if spec.condition in (">", ">=") else -1 if spec.condition in ("<", "<=") else 0
        self.for_s = spec.for_s
        self.keep_s = spec.keep_firing_for_s
        self.cooldown_s = default_cooldown_s if spec.cooldown_s is None else spec.cooldown_s
        self.repeat_s = default_repeat_s if spec.repeat_interval_s is None else spec.repeat_interval_s
        self.gpu_id = spec.gpu_id
        self.active: dict[int, Instance] = {}
        self.last_notified: dict[int, float] = {}


class AlertEngine:
    """Evaluates compiled rules against snapshots; ``transitions`` collects what changed."""

    def __init__(
        self,
        rules: Iterable[RuleSpec] = (),
        *,
        default_cooldown_s: float = 300.0,
        default_repeat_s: float = 4 * 3600.0,
        started_at: float = 0.0,
    ) -> None:
        self.default_cooldown_s = default_cooldown_s
        self.default_repeat_s = default_repeat_s
        self._rules: dict[str, CompiledRule] = {}
        self._enabled: tuple[CompiledRule, ...] = ()
        self._gpu_metrics: tuple[tuple[str, catalogue.GPUReader], ...] = ()
        self._events_needed = False
        self._silences: tuple[CompiledSilence, ...] = ()
        self._xid_seen: dict[int, int] = {}
        self._ecc_seen: dict[int, int] = {}
        self._last_snapshot_at = started_at
        self._out: list[Transition] = []
        self.set_rules(rules, now=started_at)

    # -- configuration -----------------------------------------------------------------------------

    @property
    def rules(self) -> list[RuleSpec]:
        return [rule.spec for rule in self._rules.values()]

    def set_rules(self, specs: Iterable[RuleSpec], now: float) -> list[Transition]:
        """Replace every rule. Active alerts of kept rules carry over; those of removed or disabled
        rules resolve, so a receiver is never left with an alert that can no longer clear."""
        old = self._rules
        self._rules = {}
        for spec in specs:
            compiled = CompiledRule(spec, self.default_cooldown_s, self.default_repeat_s)
            previous = old.pop(spec.id, None)
            if previous is not None:
                compiled.last_notified = previous.last_notified
                if spec.enabled and _same_series(previous.spec, spec):
                    compiled.active = previous.active
                else:
                    self._retire(previous, now)
            self._rules[spec.id] = compiled
        for removed in old.values():
            self._retire(removed, now)
        self._enabled = tuple(rule for rule in self._rules.values() if rule.spec.enabled)
        needed = {rule.metric for rule in self._enabled if not rule.host}
        self._gpu_metrics = tuple(
            (name, reader) for name in sorted(needed) if (reader := catalogue.METRICS[name].gpu) is not None
        )
        self._events_needed = any(name in needed for name in _EVENT_READERS)
        return self.take()

    def set_silences(self, silences: Sequence[CompiledSilence]) -> None:
        self._silences = tuple(silences)

    def restore(self, instances: Iterable[Instance], last_notified: Iterable[tuple[str, int, float]]) -> None:
        """Resume what was active before a restart, so nothing fires or notifies twice."""
        for instance in instances:
            rule = self._rules.get(instance.rule_id)
            if rule is not None and rule.spec.enabled:
                rule.active[instance.key] = instance
        for rule_id, key, at in last_notified:
            rule = self._rules.get(rule_id)
            if rule is not None:
                rule.last_notified[key] = max(at, rule.last_notified.get(key, 0.0))

    def _retire(self, rule: CompiledRule, now: float) -> None:
        for instance in list(rule.active.values()):
            self._end(rule, instance, now, None)

    # -- queries -----------------------------------------------------------------------------------

    def active(self) -> list[tuple[RuleSpec, Instance]]:
        return [(rule.spec, inst) for rule in self._rules.values() for inst in rule.active.values()]

    def instance(self, rule_id: str, key: int) -> Instance | None:
        rule = self._rules.get(rule_id)
        return rule.active.get(key) if rule else None

    def acknowledge(self, rule_id: str, key: int, by: str | None, now: float) -> Instance | None:
        """Acknowledged alerts stop repeating until they resolve."""
        rule = self._rules.get(rule_id)
        instance = rule.active.get(key) if rule else None
        if instance is not None:
            instance.acked_by = by or "anonymous"
            instance.acked_at = now
        return instance

    def take(self) -> list[Transition]:
        out, self._out = self._out, []
        return out

    # -- evaluation --------------------------------------------------------------------------------

    def evaluate(self, snapshot: Snapshot, now: float | None = None) -> list[Transition]:
        """Step every enabled rule with this snapshot; returns the transitions it caused."""
        now = snapshot.timestamp if now is None else now
        self._last_snapshot_at = snapshot.timestamp
        gpus = snapshot.gpus
        columns: dict[str, tuple[list[float | None], float | None, float | None]] = {}
        for name, reader in self._gpu_metrics:
            columns[name] = _column([reader(g) for g in gpus])
        if self._events_needed:
            xids, eccs = self._event_values(gpus)
            columns["event.xid"] = _column(xids)
            columns["event.ecc_uncorrectable"] = _column(eccs)
        host_values: dict[str, float | None] = {}
        for rule in self._enabled:
            if rule.host:
                value = host_values.get(rule.metric, _MISSING)
                if value is _MISSING:
                    value = self._host_value(rule.metric, snapshot, now)
                    host_values[rule.metric] = value
                self._step(rule, HOST_KEY, value, now, None)
                continue
            values, high, low = columns[rule.metric]
            if not rule.active:
                quick = rule.quick
                if quick > 0:
                    if high is None or not rule.op(high, rule.threshold):
                        continue
                elif quick < 0 and (low is None or not rule.op(low, rule.threshold)):
                    continue
            if rule.gpu_id is not None:
                for position, sample in enumerate(gpus):
                    if sample.info.index == rule.gpu_id:
                        self._step(rule, rule.gpu_id, values[position], now, sample)
                        break
                else:
                    self._step(rule, rule.gpu_id, None, now, None)
                continue
            op, threshold, active = rule.op, rule.threshold, rule.active
            for position, value in enumerate(values):
                sample = gpus[position]
                key = sample.info.index
                if key in active or (value is not None and op(value, threshold)):
                    self._step(rule, key, value, now, sample)
            if active:
                present = {g.info.index for g in gpus}
                for key in [k for k in active if k not in present]:
                    self._step(rule, key, None, now, None)
        return self.take()

    def watchdog(self, now: float) -> list[Transition]:
        """Evaluate the sampler-stalled rules between snapshots: their value is the newest one's age."""
        age = max(0.0, now - self._last_snapshot_at)
        for rule in self._enabled:
            if rule.metric == catalogue.STALL_METRIC:
                self._step(rule, HOST_KEY, age, now, None)
        return self.take()

    def _host_value(self, metric: str, snapshot: Snapshot, now: float) -> float | None:
        if metric == catalogue.STALL_METRIC:
            return max(0.0, now - snapshot.timestamp)
        reader = catalogue.METRICS[metric].host
        return reader(snapshot.host) if reader is not None else None

    def _event_values(self, gpus: Sequence[GPUSample]) -> tuple[list[float | None], list[float | None]]:
        xids: list[float | None] = []
        eccs: list[float | None] = []
        for sample in gpus:
            key = sample.info.index
            seen = self._xid_seen.get(key)
            self._xid_seen[key] = sample.xid_count
            new_xid = seen is not None and sample.xid_count > seen
            xids.append(float(sample.last_xid or 0) if new_xid else 0.0)
            counter = sample.ecc_uncorrected_volatile
            if counter is None:
                counter = sample.ecc_uncorrected_aggregate
            if counter is None:
                eccs.append(None)
                continue
            previous = self._ecc_seen.get(key)
            self._ecc_seen[key] = counter
            eccs.append(float(max(0, counter - previous)) if previous is not None else 0.0)
        return xids, eccs

    # -- the state machine -------------------------------------------------------------------------

    def _step(
        self, rule: CompiledRule, key: int, value: float | None, now: float, sample: GPUSample | None
    ) -> None:
        instance = rule.active.get(key)
        if instance is None:
            if value is None or not rule.op(value, rule.threshold):
                return
            instance = Instance(rule.id, key, "pending", now, now, value)
            rule.active[key] = instance
            if rule.for_s <= 0:
                self._fire(rule, instance, now, sample, "inactive")
            else:
                self._emit(rule, instance, ("pending", "inactive", "pending"), now, sample=sample)
            return
        instance.value = value
        if instance.state == "pending":
            if value is None or not rule.op(value, rule.threshold):
                del rule.active[key]
                self._emit(rule, instance, ("inactive", "pending", "inactive"), now, sample=sample)
            else:
                instance.last_true = now
                if now - instance.active_since >= rule.for_s:
                    self._fire(rule, instance, now, sample, "pending")
            return
        if value is not None and rule.op(value, rule.hold_threshold):
            instance.last_true = now
            last = instance.last_notified_at
            if instance.notified and (rule.repeat_s <= 0 or last is None or now - last < rule.repeat_s):
                return
            self._maybe_renotify(rule, instance, now, sample)
        elif now - instance.last_true >= rule.keep_s:
            self._end(rule, instance, now, sample)

    def _fire(
        self, rule: CompiledRule, instance: Instance, now: float, sample: GPUSample | None, previous: State
    ) -> None:
        instance.state = "firing"
        instance.fired_at = now
        suppressed = self._suppression(rule, instance, now, repeat=False)
        notify = suppressed is None
        if notify:
            self._mark_notified(rule, instance, now)
        self._emit(
            rule,
            instance,
            ("firing", previous, "firing"),
            now,
            notify=notify,
            suppressed=suppressed,
            sample=sample,
        )

    def _maybe_renotify(
        self, rule: CompiledRule, instance: Instance, now: float, sample: GPUSample | None
    ) -> None:
        if instance.notified:
            if rule.repeat_s <= 0 or instance.last_notified_at is None:
                return
            if now - instance.last_notified_at < rule.repeat_s:
                return
            if self._suppression(rule, instance, now, repeat=True) is None:
                self._mark_notified(rule, instance, now)
                self._emit(rule, instance, ("firing", "firing", "repeat"), now, notify=True, sample=sample)
            return
        if self._suppression(rule, instance, now, repeat=False) is None:
            self._mark_notified(rule, instance, now)
            self._emit(rule, instance, ("firing", "firing", "firing"), now, notify=True, sample=sample)

    def _end(self, rule: CompiledRule, instance: Instance, now: float, sample: GPUSample | None) -> None:
        rule.active.pop(instance.key, None)
        if instance.state == "pending":
            self._emit(rule, instance, ("inactive", "pending", "inactive"), now, sample=sample)
            return
        self._emit(
            rule, instance, ("resolved", "firing", "resolved"), now, notify=instance.notified, sample=sample
        )

    def _mark_notified(self, rule: CompiledRule, instance: Instance, now: float) -> None:
        instance.notified = True
        instance.last_notified_at = now
        rule.last_notified[instance.key] = now

    def _suppression(
        self, rule: CompiledRule, instance: Instance, now: float, *, repeat: bool
    ) -> Suppression | None:
        for silence in self._silences:
            if silence.mutes(rule.spec, instance.key, now):
                return "silenced"
        if repeat:
            return "acknowledged" if instance.acked_at is not None else None
        last = rule.last_notified.get(instance.key)
        if last is not None and now - last < rule.cooldown_s:
            return "cooldown"
        return None

    def _emit(
        self,
        rule: CompiledRule,
        instance: Instance,
        change: tuple[State, State, Kind],
        now: float,
        *,
        notify: bool = False,
        suppressed: Suppression | None = None,
        sample: GPUSample | None = None,
    ) -> None:
        state, previous, kind = change
        self._out.append(
            Transition(
                id=uuid.uuid4().hex,
                rule=rule.spec,
                key=instance.key,
                state=state,
                previous=previous,
                kind=kind,
                value=instance.value,
                threshold=rule.threshold if state != "resolved" else rule.hold_threshold,
                timestamp=now,
                active_since=instance.active_since,
                notify=notify,
                suppressed=suppressed,
                details=_details(sample, rule.metric),
            )
        )


_MISSING: Any = object()


def _column(values: list[float | None]) -> tuple[list[float | None], float | None, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return values, None, None
    return values, max(present), min(present)


def _same_series(old: RuleSpec, new: RuleSpec) -> bool:
    return old.enabled and old.metric == new.metric and old.gpu_id == new.gpu_id


def _details(sample: GPUSample | None, metric: str) -> dict[str, Any]:
    if sample is None:
        return {}
    details: dict[str, Any] = {
        "gpu": {"index": sample.info.index, "name": sample.info.name, "uuid": sample.info.uuid}
    }
    if sample.processes:
        details["processes"] = [holder(p) for p in sample.processes]
    if metric == "event.xid" and sample.last_xid is not None:
        details["xid"] = sample.last_xid
    return details
