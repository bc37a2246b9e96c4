"""Alerting as one part of the service: the engine on its own worker thread, the repository, the outbox
dispatcher and the operations the API offers.

The sampler's callback only enqueues a snapshot. The worker evaluates it, records the transitions with
their outbox rows, hands the rows to the dispatcher and publishes browser events. It also wakes on a
timer, independent of snapshots, to run the sampler-stalled watchdog. API changes to rules and
acknowledgements run on the worker too, so the engine's state is only ever touched by one thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gpu_sentinel.alerts import catalogue
from gpu_sentinel.alerts.defaults import default_rules
from gpu_sentinel.alerts.engine import HOST_KEY, AlertEngine, Instance
from gpu_sentinel.alerts.errors import (
    AlertConfigError,
    AlertConflictError,
    AlertObjectNotFoundError,
    AlertsUnavailableError,
)
from gpu_sentinel.alerts.events import Transition, alert_id, iso
from gpu_sentinel.alerts.loader import load_alerts_file
from gpu_sentinel.alerts.outbox import OutboxDispatcher, RetryPolicy
from gpu_sentinel.alerts.repository import AlertRepository, HistoryFilter
from gpu_sentinel.alerts.rules import (
    SEVERITY_RANK,
    ChannelSpec,
    RuleSpec,
    RuleUpdate,
    SilenceSpec,
)
from gpu_sentinel.alerts.silences import CompiledSilence
from gpu_sentinel.config import Settings
from gpu_sentinel.snapshot import Snapshot
from gpu_sentinel.store import open_database
from gpu_sentinel.store.database import Database, DatabaseUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")
QUEUE_SIZE = 256
COMMAND_TIMEOUT_S = 10.0
RETENTION_EVERY_S = 3600.0
EventPublisher = Callable[[dict[str, Any]], None]
Entry = tuple[Transition, list[str], Instance | None]


@dataclass
class _Command:
    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class AlertManager:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.database = database
        self.repository = AlertRepository(database)
        self._clock = clock
        self.engine = AlertEngine(
            default_cooldown_s=settings.alert_cooldown_minutes * 60,
            default_repeat_s=settings.alert_repeat_interval_minutes * 60,
            started_at=clock(),
        )
        self._lock = threading.Lock()
        self._rules: dict[str, RuleSpec] = {}
        self._channels: dict[str, ChannelSpec] = {}
        self._silences: dict[str, SilenceSpec] = {}
        self.dispatcher = OutboxDispatcher(
            self.repository,
            self._channels.get,
            policy=RetryPolicy(
                settings.alert_retry_initial_s,
                settings.alert_retry_max_s,
                settings.alert_delivery_max_age_hours * 3600,
            ),
            clock=clock,
        )
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._publisher: EventPublisher | None = None
        self._unsaved: list[Entry] = []
        self._next_prune = 0.0
        self._migrated = False
        self.dropped_snapshots = 0
        self.evaluations = 0
        self.last_evaluation_s = 0.0

    # -- life cycle --------------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float] = time.time) -> AlertManager:
        """Its own connections to the history database (the store's writer belongs to its thread)."""
        return cls(settings, open_database(settings), clock=clock)

    def start(self) -> None:
        if self._thread is not None:
            return
        now = self._clock()
        self.dispatcher.start()
        try:
            self._load(now)
        except DatabaseUnavailableError as error:
            log.error("alerts database unavailable, running the default rules until it returns: %s", error)
            self._rules = {rule.id: rule for rule in default_rules(self.settings.gpu_poll_interval)}
            self.engine.set_rules(self._rules.values(), now)
        self._thread = threading.Thread(target=self._run, name="gpu-sentinel-alerts", daemon=True)
        self._thread.start()
        log.info("alerting: %d rules, %d channels", len(self._rules), len(self._channels))

    def _load(self, now: float) -> None:
        self.repository.migrate()
        self._migrated = True
        self.repository.seed_defaults(default_rules(self.settings.gpu_poll_interval), now)
        if self.settings.alert_rules_file is not None:
            self._apply_file(now)
        self._rules = {rule.id: rule for rule in self.repository.rules()}
        self._channels.update({c.name: c for c in self.repository.channels()})
        self._silences = {s.id: s for s in self.repository.silences()}
        self.engine.set_rules(self._rules.values(), now)
        self.engine.restore(self.repository.instances(), self.repository.last_notified())
        self._compile_silences()
        resumed = self.dispatcher.resume()
        if resumed:
            log.info("resuming %d undelivered alert notifications", resumed)

    def _apply_file(self, now: float) -> None:
        assert self.settings.alert_rules_file is not None
        loaded = load_alerts_file(self.settings.alert_rules_file)
        known = {c.name for c in loaded.channels} | {c.name for c in self.repository.channels()}
        for rule in loaded.rules:
            self._check_channels(rule, known)
        self.repository.save_rules(loaded.rules, now)
        self.repository.save_channels(loaded.channels, now)
        self.repository.save_silences(
            s.model_copy(update={"starts_at": s.starts_at or now}) for s in loaded.silences
        )

    def stop(self, timeout_s: float = 5.0) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout_s)
            self._thread = None
        self.dispatcher.stop()
        self.database.close()

    def set_event_publisher(self, publisher: EventPublisher | None) -> None:
        """Where browser notifications go (the live stream's hub); each transition becomes one event."""
        self._publisher = publisher

    def ingest(self, snapshot: Snapshot) -> None:
        """A sampler subscriber: never blocks; a full queue drops the snapshot (the next one follows)."""
        try:
            self._queue.put_nowait(snapshot)
        except queue.Full:
            self.dropped_snapshots += 1

    # -- the worker --------------------------------------------------------------------------------

    def _run(self) -> None:
        interval = self.settings.alert_watchdog_interval_s
        next_watchdog = time.monotonic() + interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_watchdog - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            try:
                transitions = self._process(item)
                if time.monotonic() >= next_watchdog:
                    transitions += self.engine.watchdog(self._clock())
                    next_watchdog = time.monotonic() + interval
                self._handle(transitions)
                self._maybe_prune()
            except Exception:
                log.exception("alert evaluation failed")

    def _process(self, item: Any) -> list[Transition]:
        if isinstance(item, Snapshot):
            started = time.perf_counter()
            transitions = self.engine.evaluate(item)
            self.last_evaluation_s = time.perf_counter() - started
            self.evaluations += 1
            return transitions
        if isinstance(item, _Command):
            try:
                item.future.set_result(item.run())
            except Exception as error:
                item.future.set_exception(error)
            return self.engine.take()
        return []

    def _handle(self, transitions: Sequence[Transition]) -> None:
        for transition in transitions:
            channels = self._channels_for(transition) if transition.notify else []
            instance = (
                self.engine.instance(transition.rule.id, transition.key)
                if transition.state in ("pending", "firing")
                else None
            )
            self._unsaved.append((transition, channels, instance))
        self._flush()
        publisher = self._publisher
        if publisher is not None:
            for transition in transitions:
                try:
                    publisher({"type": "alert", **transition.payload(), "notify": transition.notify})
                except Exception:
                    log.exception("publishing an alert event failed")

    def _flush(self) -> None:
        if not self._unsaved:
            return
        try:
            if not self._migrated:
                self.repository.migrate()
                self._migrated = True
            items = self.repository.record(self._unsaved, self._clock())
        except DatabaseUnavailableError as error:
            log.warning("alerts database unavailable, %d transitions wait: %s", len(self._unsaved), error)
            return
        self._unsaved.clear()
        self.dispatcher.submit(items)

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now < self._next_prune:
            return
        self._next_prune = now + RETENTION_EVERY_S
        try:
            self.repository.prune(now - self.settings.alert_history_retention_days * 86400)
        except DatabaseUnavailableError as error:
            log.warning("alert history retention postponed: %s", error)

    def _channels_for(self, transition: Transition) -> list[str]:
        names = transition.rule.channels
        candidates = (
            list(self._channels.values())
            if names is None
            else [self._channels[n] for n in names if n in self._channels]
        )
        rank = SEVERITY_RANK[transition.rule.severity]
        return [c.name for c in candidates if c.enabled and rank >= SEVERITY_RANK[c.min_severity]]

    def _call(self, run: Callable[[], T]) -> T:
        """Run ``run`` on the worker thread (inline before start) and return its result."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            result = run()
            self._handle(self.engine.take())
            return result
        command = _Command(run)
        self._queue.put(command, timeout=COMMAND_TIMEOUT_S)
        return command.future.result(COMMAND_TIMEOUT_S)  # type: ignore[no-any-return]

    # -- rules -------------------------------------------------------------------------------------

    def rules(self) -> list[RuleSpec]:
        with self._lock:
            return sorted(self._rules.values(), key=lambda r: (not r.builtin, r.id))

    def rule(self, rule_id: str) -> RuleSpec:
        with self._lock:
            found = self._rules.get(rule_id)
        if found is None:
            raise AlertObjectNotFoundError("rule", rule_id)
        return found

    def create_rule(self, rule: RuleSpec) -> RuleSpec:
        with self._lock:
            if rule.id in self._rules:
                raise AlertConflictError(f"A rule with id {rule.id!r} exists; use PUT to replace it")
        return self._save_rule(rule.model_copy(update={"builtin": False}))

    def replace_rule(self, rule_id: str, rule: RuleSpec) -> RuleSpec:
        existing = self.rule(rule_id)
        return self._save_rule(rule.model_copy(update={"id": rule_id, "builtin": existing.builtin}))

    def update_rule(self, rule_id: str, update: RuleUpdate) -> RuleSpec:
        return self._save_rule(update.apply(self.rule(rule_id)))

    def delete_rule(self, rule_id: str) -> None:
        self.rule(rule_id)
        self._write(lambda: self.repository.delete_rule(rule_id))
        with self._lock:
            self._rules.pop(rule_id, None)
        self._apply_rules()

    def _save_rule(self, rule: RuleSpec) -> RuleSpec:
        self._check_channels(rule, set(self._channels))
        self._write(lambda: self.repository.save_rules([rule], self._clock()))
        with self._lock:
            self._rules[rule.id] = rule
        self._apply_rules()
        return rule

    def _apply_rules(self) -> None:
        with self._lock:
            rules = list(self._rules.values())
        self._call(lambda: self.engine.set_rules(rules, self._clock()))

    @staticmethod
    def _check_channels(rule: RuleSpec, known: set[str]) -> None:
        unknown = [name for name in rule.channels or () if name not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none configured"
            raise AlertConfigError(
                f"rule {rule.id!r}: unknown channel(s) {', '.join(unknown)}; known: {listed}"
            )

    # -- channels ----------------------------------------------------------------------------------

    def channels(self) -> list[ChannelSpec]:
        return sorted(self._channels.values(), key=lambda c: c.name)

    def channel(self, name: str) -> ChannelSpec:
        found = self._channels.get(name)
        if found is None:
            raise AlertObjectNotFoundError("channel", name)
        return found

    def create_channel(self, channel: ChannelSpec) -> ChannelSpec:
        if channel.name in self._channels:
            raise AlertConflictError(f"A channel named {channel.name!r} exists; use PUT to replace it")
        return self._save_channel(channel)

    def replace_channel(self, name: str, channel: ChannelSpec) -> ChannelSpec:
        previous = self.channel(name)
        return self._save_channel(channel.model_copy(update={"name": name}).keeping_secrets_of(previous))

    def _save_channel(self, channel: ChannelSpec) -> ChannelSpec:
        self._write(lambda: self.repository.save_channels([channel], self._clock()))
        self._channels[channel.name] = channel
        return channel

    def delete_channel(self, name: str) -> None:
        self.channel(name)
        users = [rule.id for rule in self.rules() if rule.channels and name in rule.channels]
        if users:
            raise AlertConflictError(f"Channel {name!r} is used by rule(s) {', '.join(users)}")
        self._write(lambda: self.repository.delete_channel(name))
        self._channels.pop(name, None)

    def test_channel(self, name: str) -> None:
        """Send a sample notification now, bypassing the outbox, and raise what the receiver said."""
        channel = self.channel(name)
        now = self._clock()
        rule = RuleSpec(id="test", name="Test notification", metric="host.cpu_pct", threshold=0)
        transition = Transition(
            id=f"test-{int(now)}",
            rule=rule,
            key=HOST_KEY,
            state="firing",
            previous="inactive",
            kind="firing",
            value=0.0,
            threshold=0.0,
            timestamp=now,
            active_since=now,
            notify=True,
        )
        key = f"{transition.id}:{name}"
        notifier = self.dispatcher.notifiers.for_channel(channel)
        self.dispatcher.run_coroutine(notifier.send(channel, key, transition.payload())).result(
            channel.timeout_s + 2
        )

    # -- silences ----------------------------------------------------------------------------------

    def silences(self) -> list[SilenceSpec]:
        return sorted(self._silences.values(), key=lambda s: (s.starts_at or 0.0, s.id))

    def create_silence(self, silence: SilenceSpec) -> SilenceSpec:
        if silence.id in self._silences:
            raise AlertConflictError(f"A silence with id {silence.id!r} exists")
        now = self._clock()
        silence = silence.model_copy(update={"starts_at": silence.starts_at or now})
        if silence.ends_at <= now:
            raise AlertConfigError("ends_at is in the past: the silence would never be active")
        self._write(lambda: self.repository.save_silences([silence]))
        self._silences[silence.id] = silence
        self._compile_silences()
        return silence

    def delete_silence(self, silence_id: str) -> None:
        if silence_id not in self._silences:
            raise AlertObjectNotFoundError("silence", silence_id)
        self._write(lambda: self.repository.delete_silence(silence_id))
        self._silences.pop(silence_id, None)
        self._compile_silences()

    def _compile_silences(self) -> None:
        compiled = [CompiledSilence.compile(s, s.starts_at or 0.0) for s in self._silences.values()]
        self._call(lambda: self.engine.set_silences(compiled))

    # -- alerts ------------------------------------------------------------------------------------

    def active(self) -> list[dict[str, Any]]:
        now = self._clock()
        alerts = self._call(self.engine.active)
        silences = [CompiledSilence.compile(s, s.starts_at or 0.0) for s in self._silences.values()]
        return [self._view(rule, inst, silences, now) for rule, inst in alerts]

    def acknowledge(self, alert: str, by: str | None) -> dict[str, Any]:
        rule_id, _, instance_text = alert.rpartition(":")
        key = _instance_key(instance_text)
        if key is None or not rule_id:
            raise AlertObjectNotFoundError("alert", alert)
        now = self._clock()
        instance = self._call(lambda: self.engine.acknowledge(rule_id, key, by, now))
        if instance is None:
            raise AlertObjectNotFoundError("alert", alert)
        self._write(lambda: self.repository.save_instance(instance))
        return self._view(self.rule(rule_id), instance, [], now)

    def history(self, query: HistoryFilter) -> tuple[int, list[dict[str, Any]]]:
        try:
            return self.repository.history(query)
        except DatabaseUnavailableError as error:
            raise AlertsUnavailableError(f"Alert history unavailable: {error}") from error

    @staticmethod
    def _view(
        rule: RuleSpec, instance: Instance, silences: Sequence[CompiledSilence], now: float
    ) -> dict[str, Any]:
        metric = catalogue.METRICS[rule.metric]
        return {
            "id": alert_id(rule.id, instance.key),
            "rule_id": rule.id,
            "rule_name": rule.name,
            "metric": rule.metric,
            "unit": metric.unit,
            "severity": rule.severity,
            "instance": "host" if instance.key < 0 else f"gpu{instance.key}",
            "gpu_id": None if instance.key < 0 else instance.key,
            "state": instance.state,
            "value": instance.value,
            "threshold": rule.threshold,
            "condition": rule.condition,
            "active_since": iso(instance.active_since),
            "fired_at": iso(instance.fired_at),
            "notified": instance.notified,
            "acknowledged": instance.acked_at is not None,
            "acknowledged_by": instance.acked_by,
            "acknowledged_at": iso(instance.acked_at),
            "silenced": any(s.mutes(rule, instance.key, now) for s in silences),
        }

    def _write(self, write: Callable[[], None]) -> None:
        try:
            write()
        except DatabaseUnavailableError as error:
            raise AlertsUnavailableError(f"Alerts database unavailable: {error}") from error


def _instance_key(text: str) -> int | None:
    if text == "host":
        return HOST_KEY
    if text.startswith("gpu") and text[3:].isdigit():
        return int(text[3:])
    return None
