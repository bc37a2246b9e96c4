"""The alert configuration as the API sees it: reads come from the worker's published copy, every
change runs on the alert worker, so concurrent requests never interleave a check with another change."""

from __future__ import annotations

from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec
from gpu_sentinel.alerts.errors import AlertObjectNotFoundError
from gpu_sentinel.alerts.rules import RuleSpec, RuleUpdate, SilenceSpec
from gpu_sentinel.alerts.worker import AlertWorker


class AlertConfiguration:
    """Rules, channels and silences: list, get, create, replace, update and delete, from any thread."""

    def __init__(self, worker: AlertWorker) -> None:
        self._worker = worker

    # -- rules -------------------------------------------------------------------------------------

    def rules(self) -> list[RuleSpec]:
        return sorted(self._worker.view.rules.values(), key=lambda r: (not r.builtin, r.id))

    def rule(self, rule_id: str) -> RuleSpec:
        found = self._worker.view.rules.get(rule_id)
        if found is None:
            raise AlertObjectNotFoundError("rule", rule_id)
        return found

    def create_rule(self, rule: RuleSpec) -> RuleSpec:
        return self._worker.call(lambda state: state.create_rule(rule))

    def replace_rule(self, rule_id: str, rule: RuleSpec) -> RuleSpec:
        return self._worker.call(lambda state: state.replace_rule(rule_id, rule))

    def update_rule(self, rule_id: str, update: RuleUpdate) -> RuleSpec:
        return self._worker.call(lambda state: state.update_rule(rule_id, update))

    def delete_rule(self, rule_id: str) -> None:
        self._worker.call(lambda state: state.delete_rule(rule_id))

    # -- channels ----------------------------------------------------------------------------------

    def channels(self) -> list[ChannelSpec]:
        return sorted(self._worker.view.channels.values(), key=lambda c: c.name)

    def channel(self, name: str) -> ChannelSpec:
        found = self._worker.view.channels.get(name)
        if found is None:
            raise AlertObjectNotFoundError("channel", name)
        return found

    def create_channel(self, channel: ChannelSpec) -> ChannelSpec:
        return self._worker.call(lambda state: state.create_channel(channel))

    def replace_channel(self, name: str, replacement: ChannelReplacement) -> ChannelSpec:
        return self._worker.call(lambda state: state.replace_channel(name, replacement))

    def delete_channel(self, name: str) -> None:
        self._worker.call(lambda state: state.delete_channel(name))

    # -- silences ----------------------------------------------------------------------------------

    def silences(self) -> list[SilenceSpec]:
        return sorted(self._worker.view.silences.values(), key=lambda s: (s.starts_at or 0.0, s.id))

    def create_silence(self, silence: SilenceSpec) -> SilenceSpec:
        return self._worker.call(lambda state: state.create_silence(silence))

    def delete_silence(self, silence_id: str) -> None:
        self._worker.call(lambda state: state.delete_silence(silence_id))
