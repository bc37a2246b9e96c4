"""The alert configuration (rules, channels, silences) together with the engine it drives, as one
single-threaded object: only the alert worker calls it, so a check and the change it guards are never
interleaved with another change. Other threads read ``view``, an immutable copy replaced after each change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec
from gpu_sentinel.alerts.defaults import default_rules
from gpu_sentinel.alerts.engine import AlertEngine, Instance
from gpu_sentinel.alerts.errors import (
    AlertConfigError,
    AlertConflictError,
    AlertObjectNotFoundError,
    AlertsUnavailableError,
)
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.loader import load_alerts_file
from gpu_sentinel.alerts.repository import AlertRepository
from gpu_sentinel.alerts.rules import SEVERITY_RANK, RuleSpec, RuleUpdate, SilenceSpec
from gpu_sentinel.alerts.silences import CompiledSilence
from gpu_sentinel.config import Settings
from gpu_sentinel.store.database import DatabaseUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConfigView:
    """What any thread may read: one consistent, never-mutated copy of the configuration."""

    rules: Mapping[str, RuleSpec]
    channels: Mapping[str, ChannelSpec]
    silences: Mapping[str, SilenceSpec]

    @classmethod
    def of(
        cls, rules: dict[str, RuleSpec], channels: dict[str, ChannelSpec], silences: dict[str, SilenceSpec]
    ) -> ConfigView:
        return cls(
            MappingProxyType(dict(rules)), MappingProxyType(dict(channels)), MappingProxyType(dict(silences))
        )

    def compiled_silences(self) -> list[CompiledSilence]:
        return [CompiledSilence.compile(s, s.starts_at or 0.0) for s in self.silences.values()]

    def channels_for(self, transition: Transition) -> list[str]:
        """The enabled channels a transition's rule names (all when it names none) that take its severity."""
        names = transition.rule.channels
        channels = self.channels
        candidates = (
            list(channels.values()) if names is None else [channels[n] for n in names if n in channels]
        )
        rank = SEVERITY_RANK[transition.rule.severity]
        return [c.name for c in candidates if c.enabled and rank >= SEVERITY_RANK[c.min_severity]]


class AlertState:
    """Rules, channels and silences, persisted before they take effect, and the engine that uses them."""

    def __init__(
        self,
        settings: Settings,
        repository: AlertRepository,
        engine: AlertEngine,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.repository = repository
        self.engine = engine
        self._clock = clock
        self._rules: dict[str, RuleSpec] = {}
        self._channels: dict[str, ChannelSpec] = {}
        self._silences: dict[str, SilenceSpec] = {}
        self._retired: list[Transition] = []
        self.view = ConfigView.of({}, {}, {})
        self.config_version: str | None = None
        """The database's configuration version as of the last load (see ``reload``)."""

    # -- loading -----------------------------------------------------------------------------------

    def load(self) -> bool:
        """Read everything from the database (migrating it first); with the database down, run the
        default rules until it returns. Returns whether the database was reached."""
        now = self._clock()
        try:
            self.repository.migrate()
            self.repository.seed_defaults(default_rules(self.settings.gpu_poll_interval), now)
            if self.settings.alert_rules_file is not None:
                self._apply_file(now)
            self._read_configuration()
            instances, notified = self.repository.instances(), self.repository.last_notified()
        except DatabaseUnavailableError as error:
            log.error("alerts database unavailable, running the default rules until it returns: %s", error)
            self._rules = {rule.id: rule for rule in default_rules(self.settings.gpu_poll_interval)}
            self.config_version = None
            self._apply_rules()
            return False
        self._apply_rules()
        self.engine.restore(instances, notified)
        self._apply_silences()
        return True

    def reload(self, version: str | None) -> bool:
        """Apply what another node changed, when the database's ``version`` is not the one loaded: rules,
        channels and silences are read again; active alerts of kept rules carry on, those of removed or
        disabled rules resolve (see ``take_transitions``). Returns whether anything was read."""
        if version == self.config_version:
            return False
        try:
            self._read_configuration()
        except DatabaseUnavailableError as error:
            log.warning("alert configuration not reloaded, the database is unavailable: %s", error)
            return False
        self._apply_rules()
        self._apply_silences()
        log.info(
            "alert configuration reloaded: %d rules, %d channels, %d silences",
            len(self._rules),
            len(self._channels),
            len(self._silences),
        )
        return True

    def _read_configuration(self) -> None:
        """The version first, then the configuration: a change committed in between is read now and read
        again at the next check, never missed."""
        version = self.repository.config_version()
        rules, channels, silences = (
            self.repository.rules(),
            self.repository.channels(),
            self.repository.silences(),
        )
        self._rules = {rule.id: rule for rule in rules}
        self._channels = {channel.name: channel for channel in channels}
        self._silences = {silence.id: silence for silence in silences}
        self.config_version = version

    def _apply_file(self, now: float) -> None:
        assert self.settings.alert_rules_file is not None
        loaded = load_alerts_file(self.settings.alert_rules_file)
        known = {c.name for c in loaded.channels} | {c.name for c in self.repository.channels()}
        for rule in loaded.rules:
            _check_channels(rule, known)
        self.repository.save_rules(loaded.rules, now)
        self.repository.save_channels(loaded.channels, now)
        self.repository.save_silences(
            s.model_copy(update={"starts_at": s.starts_at or now}) for s in loaded.silences
        )

    # -- rules -------------------------------------------------------------------------------------

    def create_rule(self, rule: RuleSpec) -> RuleSpec:
        if rule.id in self._rules:
            raise AlertConflictError(f"A rule with id {rule.id!r} exists; use PUT to replace it")
        return self._save_rule(rule.model_copy(update={"builtin": False}))

    def replace_rule(self, rule_id: str, rule: RuleSpec) -> RuleSpec:
        existing = self._rule(rule_id)
        return self._save_rule(rule.model_copy(update={"id": rule_id, "builtin": existing.builtin}))

    def update_rule(self, rule_id: str, update: RuleUpdate) -> RuleSpec:
        return self._save_rule(update.apply(self._rule(rule_id)))

    def delete_rule(self, rule_id: str) -> None:
        self._rule(rule_id)
        _write(lambda: self.repository.delete_rule(rule_id))
        del self._rules[rule_id]
        self._apply_rules()

    def _rule(self, rule_id: str) -> RuleSpec:
        found = self._rules.get(rule_id)
        if found is None:
            raise AlertObjectNotFoundError("rule", rule_id)
        return found

    def _save_rule(self, rule: RuleSpec) -> RuleSpec:
        _check_channels(rule, set(self._channels))
        _write(lambda: self.repository.save_rules([rule], self._clock()))
        self._rules[rule.id] = rule
        self._apply_rules()
        return rule

    def _apply_rules(self) -> None:
        self._retired += self.engine.set_rules(self._rules.values(), self._clock())
        self._publish()

    def take_transitions(self) -> list[Transition]:
        """What the last command caused: alerts of removed or disabled rules resolve, and are recorded."""
        out, self._retired = [*self._retired, *self.engine.take()], []
        return out

    # -- channels ----------------------------------------------------------------------------------

    def create_channel(self, channel: ChannelSpec) -> ChannelSpec:
        if channel.name in self._channels:
            raise AlertConflictError(f"A channel named {channel.name!r} exists; use PUT to replace it")
        return self._save_channel(channel)

    def replace_channel(self, name: str, replacement: ChannelReplacement) -> ChannelSpec:
        previous = self._channels.get(name)
        if previous is None:
            raise AlertObjectNotFoundError("channel", name)
        return self._save_channel(replacement.applied_to(previous))

    def delete_channel(self, name: str) -> None:
        if name not in self._channels:
            raise AlertObjectNotFoundError("channel", name)
        users = sorted(rule.id for rule in self._rules.values() if rule.channels and name in rule.channels)
        if users:
            raise AlertConflictError(f"Channel {name!r} is used by rule(s) {', '.join(users)}")
        _write(lambda: self.repository.delete_channel(name))
        del self._channels[name]
        self._publish()

    def _save_channel(self, channel: ChannelSpec) -> ChannelSpec:
        _write(lambda: self.repository.save_channels([channel], self._clock()))
        self._channels[channel.name] = channel
        self._publish()
        return channel

    # -- silences ----------------------------------------------------------------------------------

    def create_silence(self, silence: SilenceSpec) -> SilenceSpec:
        if silence.id in self._silences:
            raise AlertConflictError(f"A silence with id {silence.id!r} exists")
        now = self._clock()
        silence = silence.model_copy(update={"starts_at": silence.starts_at or now})
        if silence.ends_at <= now:
            raise AlertConfigError("ends_at is in the past: the silence would never be active")
        _write(lambda: self.repository.save_silences([silence]))
        self._silences[silence.id] = silence
        self._apply_silences()
        return silence

    def delete_silence(self, silence_id: str) -> None:
        if silence_id not in self._silences:
            raise AlertObjectNotFoundError("silence", silence_id)
        _write(lambda: self.repository.delete_silence(silence_id))
        del self._silences[silence_id]
        self._apply_silences()

    def _apply_silences(self) -> None:
        self._publish()
        self.engine.set_silences(self.view.compiled_silences())

    # -- alerts ------------------------------------------------------------------------------------

    def acknowledge(self, rule_id: str, key: int, by: str | None) -> Instance | None:
        """Acknowledge an active alert and persist it; None when no such alert is active."""
        instance = self.engine.acknowledge(rule_id, key, by, self._clock())
        if instance is not None:
            _write(lambda: self.repository.save_instance(instance))
        return instance

    def read_acknowledgements(self) -> None:
        """Take up acknowledgements a hub wrote into this node's firing alerts in the shared database,
        so they stop repeating here too."""
        firing = [instance for _, instance in self.engine.active() if instance.state == "firing"]
        self.repository.read_acknowledgements(firing)

    def _publish(self) -> None:
        self.view = ConfigView.of(self._rules, self._channels, self._silences)


def _check_channels(rule: RuleSpec, known: set[str]) -> None:
    unknown = [name for name in rule.channels or () if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none configured"
        raise AlertConfigError(f"rule {rule.id!r}: unknown channel(s) {', '.join(unknown)}; known: {listed}")


def _write(write: Callable[[], None]) -> None:
    try:
        write()
    except DatabaseUnavailableError as error:
        raise AlertsUnavailableError(f"Alerts database unavailable: {error}") from error
