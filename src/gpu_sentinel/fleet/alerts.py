"""Fleet rules, "node offline" and "GPU unresponsive" across nodes, evaluated by exactly one hub at a
time and notified through the alerting subsystem's own transitions, outbox and channels.

Which hub evaluates is decided by a PostgreSQL session advisory lock held on a connection of its own:
when the holder dies, the server drops its session and lock, and another hub's next attempt (every
``tick_s``) takes over. Active fleet alerts are saved as alert instances in the same transaction as
their transitions, all as the fleet's (``FLEET_ALERTS_NODE``), so the new holder resumes them, their
cooldowns and repeat intervals and notifies nothing twice; it also resumes the outbox, whose rows the
old holder may have left undelivered. Silences, channels, cooldown and repeat interval apply as to a
node's own alerts.

Any hub acknowledges a fleet alert in the shared instances table, not in the evaluating hub's memory
(its thread owns that): the evaluator's writes keep a stored acknowledgement, and before a repeat it
reads the acknowledgements back, so an acknowledged alert stops repeating on whichever hub leads.

The list of active alerts also shows every node's own firing alerts, read from the same table in the
same query. A hub acknowledges those in their node's rows the same way; the node's alert worker, which
owns their state, reads acknowledgements back while it has unacknowledged alerts firing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from gpu_sentinel.alerts import AlertManager
from gpu_sentinel.alerts.engine import Instance
from gpu_sentinel.alerts.errors import AlertObjectNotFoundError, AlertsUnavailableError
from gpu_sentinel.alerts.events import Kind, State, Suppression, Transition, iso
from gpu_sentinel.alerts.repository import AlertRepository
from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.alerts.silences import CompiledSilence
from gpu_sentinel.alerts.views import alert_view
from gpu_sentinel.fleet.live import NodeLive, StatusBounds
from gpu_sentinel.store.database import DatabaseUnavailableError
from gpu_sentinel.store.listener import connect

log = logging.getLogger(__name__)
TICK_S = 0.5
LOCK_NAME = "gpu-sentinel-fleet-alerts"
# The lock is per schema: fleets kept in different schemas of one database have a hub each.
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext(current_schema() || '.' || %s))"
GPU_BITS = 10

FLEET_ALERTS_NODE = "fleet"
"""The node id under which fleet alerts' state, transitions and outbox are kept: the fleet's, not the
evaluating hub's, so whichever hub holds the lock next resumes them, their cooldowns and their outbox."""
NODE_OFFLINE_ID = "fleet-node-offline"
GPU_UNRESPONSIVE_ID = "fleet-gpu-unresponsive"


def fleet_rules(offline_after_s: float) -> dict[str, RuleSpec]:
    rules = (
        RuleSpec(
            id=NODE_OFFLINE_ID,
            name="Node offline",
            description="No heartbeat from the node for longer than GPU_SENTINEL_FLEET_OFFLINE_AFTER_S.",
            metric="event.sampler_stalled",
            condition=">",
            threshold=offline_after_s,
            severity="critical",
            builtin=True,
        ),
        RuleSpec(
            id=GPU_UNRESPONSIVE_ID,
            name="GPU unresponsive",
            description="A GPU of a node that is online misses its driver calls' deadlines.",
            metric="event.gpu_unresponsive",
            condition=">=",
            threshold=1,
            severity="critical",
            builtin=True,
        ),
    )
    return {rule.id: rule for rule in rules}


@dataclass(slots=True)
class FleetTransition(Transition):
    """A transition of a fleet alert: its instance is a node, or a GPU of a node."""

    node: str = ""
    node_id: str = ""
    gpu_index: int | None = None

    @property
    def instance(self) -> str:
        return instance_label(self.node, self.gpu_index)

    @property
    def alert_id(self) -> str:
        return f"{self.rule.id}:{self.instance}"

    @property
    def gpu_id(self) -> int | None:
        return self.gpu_index

    def summary(self) -> str:
        status = "RESOLVED" if self.state in ("resolved", "inactive") else self.state.upper()
        if self.gpu_index is None:
            return f"[{status}] {self.rule.name}: {self.node}, last heartbeat {iso(self.active_since)}"
        return f"[{status}] {self.rule.name}: GPU {self.gpu_index} of node {self.node}"

    def payload(self) -> dict[str, Any]:
        body = Transition.payload(self)
        body["host"] = self.node
        body["node"] = {"name": self.node, "id": self.node_id}
        body["unit"] = "s" if self.gpu_index is None else None
        return body


def instance_label(node: str, gpu_index: int | None) -> str:
    """How a fleet alert names its instance: the node, or one of its GPUs (``node/gpu1``)."""
    return node if gpu_index is None else f"{node}/gpu{gpu_index}"


def instance_key(node_id: str, gpu_index: int | None) -> int:
    """A stable integer for the alert instance tables (which key instances by integer)."""
    if gpu_index is None:
        return int(node_id[:7], 16)
    return (int(node_id[:5], 16) << GPU_BITS) | (gpu_index & ((1 << GPU_BITS) - 1))


class FleetAlertRepository(AlertRepository):
    """The fleet's alert state (PostgreSQL), and every node's alerts as the hubs list them."""

    @classmethod
    def sharing(cls, repository: AlertRepository) -> FleetAlertRepository:
        """The fleet's, on ``repository``'s database and writer lock."""
        return cls(repository.database, FLEET_ALERTS_NODE, lock=repository.writer_lock())

    def every_instance(self) -> list[tuple[str, Instance]]:
        """The fleet's active alerts and every node's own, in one query: (node id, alert)."""
        rows = self.database.query(
            "SELECT node_id, body FROM alert_instances ORDER BY node_id, rule_id, instance_key"
        )
        return [(str(row[0]), Instance(**orjson.loads(row[1]))) for row in rows]


def silence_labels(rule: RuleSpec, node: str, gpu_index: int | None) -> dict[str, str]:
    """What a silence matches: those of a node's alert, with the node (or node/gpuN) as instance."""
    return {
        "rule_id": rule.id,
        "rule": rule.name,
        "metric": rule.metric,
        "severity": rule.severity,
        "gpu": "" if gpu_index is None else str(gpu_index),
        "instance": instance_label(node, gpu_index),
    }


def identify(key: tuple[str, int], nodes: Mapping[str, NodeLive]) -> tuple[str, str, int | None] | None:
    """The node's name and id (and GPU) of a fleet alert instance, by its key; None if no node matches."""
    for node in nodes.values():
        if key[0] == NODE_OFFLINE_ID:
            if instance_key(node.id, None) == key[1]:
                return node.name, node.id, None
            continue
        for gpu in node.gpus:
            if instance_key(node.id, gpu["gpu_id"]) == key[1]:
                return node.name, node.id, gpu["gpu_id"]
    return None


@dataclass(frozen=True, slots=True)
class _Condition:
    rule_id: str
    node: NodeLive
    gpu_index: int | None
    value: float
    since: float


class FleetRules:
    """The fleet rules' state machine (inactive -> firing -> resolved; pure and single-threaded), with
    the node alerts' notification policy: a firing alert notifies unless silenced or within its
    cooldown since it last notified, a still-firing one again every repeat interval, and a resolution
    only when its firing was notified, so a flapping node notifies once per cooldown, not per flap."""

    def __init__(
        self,
        rules: Mapping[str, RuleSpec],
        bounds: StatusBounds,
        *,
        default_cooldown_s: float = 300.0,
        default_repeat_s: float = 4 * 3600.0,
    ) -> None:
        self.rules = rules
        self.bounds = bounds
        self.cooldown_s = {
            r.id: default_cooldown_s if r.cooldown_s is None else r.cooldown_s for r in rules.values()
        }
        self.repeat_s = {
            r.id: default_repeat_s if r.repeat_interval_s is None else r.repeat_interval_s
            for r in rules.values()
        }
        self.active: dict[tuple[str, int], Instance] = {}
        self.last_notified: dict[str, float] = {}
        """When each alert (by alert id) last notified while firing: the cooldown outlives the alert."""
        self._names: dict[tuple[str, int], tuple[str, str, int | None]] = {}

    def restore(self, instances: list[Instance], last_notified: Mapping[str, float] | None = None) -> None:
        self.active = {(i.rule_id, i.key): i for i in instances if i.rule_id in self.rules}
        self.last_notified = dict(last_notified or {})

    def evaluate(
        self, nodes: Mapping[str, NodeLive], now: float, silences: Sequence[CompiledSilence] = ()
    ) -> list[FleetTransition]:
        holding = {(c.rule_id, instance_key(c.node.id, c.gpu_index)): c for c in self._conditions(nodes, now)}
        out: list[FleetTransition] = []
        for key, condition in holding.items():
            self._names[key] = (condition.node.name, condition.node.id, condition.gpu_index)
            instance = self.active.get(key)
            if instance is None:
                instance = Instance(
                    key[0], key[1], "firing", condition.since, now, condition.value, fired_at=now
                )
                self.active[key] = instance
                out.append(self._fire(instance, "inactive", now, silences))
                continue
            instance.last_true, instance.value = now, condition.value
            again = self._renotify(instance, now, silences)
            if again is not None:
                out.append(again)
        for key in [k for k in self.active if k not in holding and self._may_resolve(k, nodes, now)]:
            instance = self.active.pop(key)
            out.append(
                self._transition(instance, ("resolved", "firing", "resolved"), now, notify=instance.notified)
            )
        return out

    def _fire(
        self, instance: Instance, previous: State, now: float, silences: Sequence[CompiledSilence]
    ) -> FleetTransition:
        suppressed = self._suppression(instance, now, silences, repeat=False)
        if suppressed is None:
            self._mark_notified(instance, now)
        return self._transition(
            instance, ("firing", previous, "firing"), now, notify=suppressed is None, suppressed=suppressed
        )

    def _renotify(
        self, instance: Instance, now: float, silences: Sequence[CompiledSilence]
    ) -> FleetTransition | None:
        """A firing alert that has not notified does once its cooldown or silence is over; one that
        has, again every repeat interval until it is acknowledged or resolves."""
        if not instance.notified:
            if self._suppression(instance, now, silences, repeat=False) is not None:
                return None
            self._mark_notified(instance, now)
            return self._transition(instance, ("firing", "firing", "firing"), now, notify=True)
        if not self._repeat_due(instance, now):
            return None
        if self._suppression(instance, now, silences, repeat=True) is not None:
            return None
        self._mark_notified(instance, now)
        return self._transition(instance, ("firing", "firing", "repeat"), now, notify=True)

    def _repeat_due(self, instance: Instance, now: float) -> bool:
        repeat_s, last = self.repeat_s[instance.rule_id], instance.last_notified_at
        return instance.notified and repeat_s > 0 and last is not None and now - last >= repeat_s

    def repeats_due(self, now: float, silences: Sequence[CompiledSilence]) -> list[Instance]:
        """Unacknowledged alerts that would repeat now: whether one was acknowledged meanwhile is read
        from the database only then."""
        return [
            instance
            for key, instance in self.active.items()
            if key in self._names  # else just restored from the database, acknowledgements and all
            and self._repeat_due(instance, now)
            and self._suppression(instance, now, silences, repeat=True) is None
        ]

    def _suppression(
        self, instance: Instance, now: float, silences: Sequence[CompiledSilence], *, repeat: bool
    ) -> Suppression | None:
        labels = self._labels(instance)
        if any(silence.mutes_labels(labels, now) for silence in silences):
            return "silenced"
        if repeat:
            return "acknowledged" if instance.acked_at is not None else None
        last = self.last_notified.get(self._alert_id(instance))
        if last is not None and now - last < self.cooldown_s[instance.rule_id]:
            return "cooldown"
        return None

    def _mark_notified(self, instance: Instance, now: float) -> None:
        instance.notified = True
        instance.last_notified_at = now
        self.last_notified[self._alert_id(instance)] = now

    def _labels(self, instance: Instance) -> dict[str, str]:
        name, _, gpu_index = self._names[(instance.rule_id, instance.key)]
        return silence_labels(self.rules[instance.rule_id], name, gpu_index)

    def _alert_id(self, instance: Instance) -> str:
        name, _, gpu_index = self._names[(instance.rule_id, instance.key)]
        return f"{instance.rule_id}:{instance_label(name, gpu_index)}"

    def _may_resolve(self, key: tuple[str, int], nodes: Mapping[str, NodeLive], now: float) -> bool:
        """An alert whose condition no longer holds resolves, except a GPU's while its node is offline
        (its GPUs' last state is all there is). One whose node cannot be named is left alone."""
        names = self._names.get(key) or identify(key, nodes)
        if names is None:
            return False
        self._names[key] = names
        node = nodes.get(names[1])
        if node is None or key[0] == NODE_OFFLINE_ID:
            return True
        return self.bounds.status(node.record.heartbeat, now) != "offline"

    def _conditions(self, nodes: Mapping[str, NodeLive], now: float) -> list[_Condition]:
        found = []
        for node in nodes.values():
            heartbeat = node.record.heartbeat
            if self.bounds.status(heartbeat, now) == "offline":
                found.append(_Condition(NODE_OFFLINE_ID, node, None, round(now - heartbeat, 3), heartbeat))
                continue
            for gpu in node.gpus:
                if gpu["state"] == "unresponsive":
                    found.append(_Condition(GPU_UNRESPONSIVE_ID, node, gpu["gpu_id"], 1.0, heartbeat))
        return found

    def _transition(
        self,
        instance: Instance,
        change: tuple[State, State, Kind],
        now: float,
        *,
        notify: bool,
        suppressed: Suppression | None = None,
    ) -> FleetTransition:
        state, previous, kind = change
        rule = self.rules[instance.rule_id]
        name, node_id, gpu_index = self._names[(instance.rule_id, instance.key)]
        return FleetTransition(
            id=uuid.uuid4().hex,
            rule=rule,
            key=instance.key,
            state=state,
            previous=previous,
            kind=kind,
            value=instance.value,
            threshold=rule.threshold,
            timestamp=now,
            active_since=instance.active_since,
            notify=notify,
            suppressed=suppressed,
            node=name,
            node_id=node_id,
            gpu_index=gpu_index,
        )


class FleetAlerts:
    """Competes for the fleet-alerts lock and, while holding it, evaluates the fleet rules every tick."""

    def __init__(
        self,
        url: str,
        nodes: Callable[[], Mapping[str, NodeLive]],
        manager: AlertManager,
        bounds: StatusBounds,
        *,
        ready: Callable[[], bool] = lambda: True,
        default_cooldown_s: float = 300.0,
        default_repeat_s: float = 4 * 3600.0,
        tick_s: float = TICK_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._nodes = nodes
        self._manager = manager
        self.repository = FleetAlertRepository.sharing(manager.repository)
        self._ready = ready
        self.specs = fleet_rules(bounds.offline_after_s)
        self.rules = FleetRules(
            self.specs,
            bounds,
            default_cooldown_s=default_cooldown_s,
            default_repeat_s=default_repeat_s,
        )
        self.tick_s = tick_s
        self._clock = clock
        self._lock_connection: psycopg.Connection[Any] | None = None
        self._unsaved: list[tuple[Transition, list[str], Instance | None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """Whether this hub holds the lock and evaluates the fleet rules now."""
        return self._lock_connection is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fleet-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._release()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                if self._holds_lock() and self._ready():
                    self._step()
            except Exception:
                log.exception("fleet alert evaluation failed")

    def _holds_lock(self) -> bool:
        try:
            if self._lock_connection is not None:
                self._lock_connection.execute(b"SELECT 1")
                return True
            connection = connect(self.url)
            row = connection.execute(TRY_LOCK.encode(), (LOCK_NAME,)).fetchone()
            if not (row and row[0]):
                connection.close()
                return False
        except psycopg.Error as error:
            if self._lock_connection is not None:
                log.warning("fleet alerts: lost the lock's connection, another hub takes over: %s", error)
            self._release()
            return False
        self._lock_connection = connection
        self._take_over()
        return True

    def _take_over(self) -> None:
        repository = self.repository
        self.rules.restore(repository.instances(), repository.last_notified_alerts())
        pending = repository.pending_outbox()
        self._manager.dispatcher.submit(pending)
        resumed = len(pending)
        log.info(
            "this hub now evaluates the fleet rules (%d fleet alerts active, %d notifications resumed)",
            len(self.rules.active),
            resumed,
        )

    def _release(self) -> None:
        connection, self._lock_connection = self._lock_connection, None
        self._unsaved.clear()
        self.rules.active.clear()
        if connection is not None:
            connection.close()

    def _step(self) -> None:
        view = self._manager.worker.view
        now, silences = self._clock(), view.compiled_silences()
        self._read_acknowledgements(self.rules.repeats_due(now, silences))
        transitions = self.rules.evaluate(self._nodes(), now, silences)
        for transition in transitions:
            instance = self.rules.active.get((transition.rule.id, transition.key))
            channels = view.channels_for(transition) if transition.notify else []
            self._unsaved.append((transition, channels, instance))
        if not self._unsaved:
            return
        try:
            items = self.repository.record(self._unsaved, self._clock())
        except DatabaseUnavailableError as error:
            log.warning("fleet alerts: %d transitions wait for the database: %s", len(self._unsaved), error)
            return
        self._unsaved.clear()
        self._manager.dispatcher.submit(items)

    def _read_acknowledgements(self, due: list[Instance]) -> None:
        """Before alerts repeat, whether some hub's API acknowledged them since this hub read them."""
        try:
            self.repository.read_acknowledgements(due)
        except DatabaseUnavailableError:
            return

    # -- the API's: any hub, on a request's thread; only the database and immutable state are read ---

    def active(self) -> list[dict[str, Any]]:
        """The fleet alerts firing now, then every node's own, as every hub sees them in the database,
        named by their nodes."""
        now, silences, nodes = self._clock(), self._manager.worker.view.compiled_silences(), self._nodes()
        stored = self._every_instance()
        listed = [
            fleet_alert_view(self.specs[i.rule_id], i, names, silences, now)
            for i, names in self._named(stored, nodes)
        ]
        listed += [alert for _, _, alert in self._node_alerts(stored, nodes, silences, now)]
        return listed

    def acknowledge(self, alert_id: str, by: str | None) -> dict[str, Any]:
        """Acknowledge an active alert in the database: a fleet alert (``<rule_id>:<node>`` or
        ``<rule_id>:<node>/gpu<N>``), which the evaluating hub reads before it would repeat, or a node's
        own (``<rule_id>:<node>/gpu<N>`` or ``.../host``), which that node reads within
        ``ACKNOWLEDGEMENT_READ_S``. It stops repeating until it resolves."""
        now, by = self._clock(), by or "anonymous"
        silences, nodes = self._manager.worker.view.compiled_silences(), self._nodes()
        stored = self._every_instance()
        for instance, names in self._named(stored, nodes):
            if alert_id == f"{instance.rule_id}:{instance_label(names[0], names[2])}":
                self._acknowledge(self.repository, instance, by, now)
                return fleet_alert_view(self.specs[instance.rule_id], instance, names, silences, now)
        for node_id, instance, alert in self._node_alerts(stored, nodes, silences, now):
            if alert["id"] == alert_id:
                self._acknowledge(self.repository.for_node(node_id), instance, by, now)
                rule = self._manager.worker.view.rules[instance.rule_id]
                return node_alert_view(rule, instance, (nodes[node_id].name, node_id), silences, now)
        raise AlertObjectNotFoundError("alert", alert_id)

    @staticmethod
    def _acknowledge(repository: AlertRepository, instance: Instance, by: str, now: float) -> None:
        if instance.acked_at is not None:
            return  # acknowledged before: the first acknowledgement stands
        try:
            repository.acknowledge_stored(instance, by, now)
        except DatabaseUnavailableError as error:
            raise AlertsUnavailableError(f"Alerts database unavailable: {error}") from error
        instance.acked_by, instance.acked_at = by, now

    def _node_alerts(
        self,
        stored: list[tuple[str, Instance]],
        nodes: Mapping[str, NodeLive],
        silences: Sequence[CompiledSilence],
        now: float,
    ) -> Iterator[tuple[str, Instance, dict[str, Any]]]:
        """Every known node's own firing alerts: (node id, alert, the alert as the API lists it)."""
        rules = self._manager.worker.view.rules
        for node_id, instance in stored:
            node, rule = nodes.get(node_id), rules.get(instance.rule_id)
            if node is None or rule is None or instance.state != "firing" or node_id == FLEET_ALERTS_NODE:
                continue
            yield node_id, instance, node_alert_view(rule, instance, (node.name, node_id), silences, now)

    def _every_instance(self) -> list[tuple[str, Instance]]:
        """Every active alert of the fleet and of its nodes, in one query: (node id, alert)."""
        try:
            return self.repository.every_instance()
        except DatabaseUnavailableError as error:
            raise AlertsUnavailableError(f"Fleet alerts unavailable: {error}") from error

    def _named(
        self, stored: list[tuple[str, Instance]], nodes: Mapping[str, NodeLive]
    ) -> list[tuple[Instance, tuple[str, str, int | None]]]:
        """The active fleet alerts among ``stored``, with their node (and GPU); those of nodes no longer
        heard of are left out."""
        named = []
        for node_id, instance in stored:
            if node_id != FLEET_ALERTS_NODE or instance.rule_id not in self.specs:
                continue
            names = identify((instance.rule_id, instance.key), nodes)
            if names is not None:
                named.append((instance, names))
        return named


def fleet_alert_view(
    rule: RuleSpec,
    instance: Instance,
    names: tuple[str, str, int | None],
    silences: Sequence[CompiledSilence],
    now: float,
) -> dict[str, Any]:
    """A fleet alert as the API shows it: a node's alert's fields, named and silenced by its node's
    labels (a fleet instance's key is a hash, not a GPU index)."""
    node, node_id, gpu_index = names
    labels = silence_labels(rule, node, gpu_index)
    return {
        **alert_view(rule, instance, (), now),
        "id": f"{rule.id}:{labels['instance']}",
        "node": node,
        "node_id": node_id,
        "instance": labels["instance"],
        "gpu_id": gpu_index,
        "silenced": any(silence.mutes_labels(labels, now) for silence in silences),
        "source": "fleet",
    }


def node_alert_view(
    rule: RuleSpec,
    instance: Instance,
    node: tuple[str, str],
    silences: Sequence[CompiledSilence],
    now: float,
) -> dict[str, Any]:
    """A node's own alert as the hub lists it: the node's view of it, named by its node
    (``<rule_id>:<node>/gpu<N>`` or ``<rule_id>:<node>/host``)."""
    name, node_id = node
    local = alert_view(rule, instance, silences, now)
    instance_name = f"{name}/{local['instance']}"
    return {
        **local,
        "id": f"{rule.id}:{instance_name}",
        "node": name,
        "node_id": node_id,
        "instance": instance_name,
        "source": "node",
    }
