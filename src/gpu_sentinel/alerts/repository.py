"""Alert persistence in the history database, in tables of its own with their own version table, so the
two schemas migrate independently, through the same migrator. The DDL is portable (``DOUBLE PRECISION``
is REAL to SQLite); each version is frozen once released.

A transition, its outbox rows and the alert's saved state are written in one transaction: an alert is
either recorded with every notification it owes, or not at all. Writes from the engine thread, the
delivery thread and API requests share one writer connection under a lock.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from gpu_sentinel.alerts.channels import ChannelSpec
from gpu_sentinel.alerts.engine import Instance
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.rules import RuleSpec, SilenceSpec
from gpu_sentinel.store.database import Database, Statement
from gpu_sentinel.store.migrations import Migration, MigrationSet

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE alert_rules (id TEXT PRIMARY KEY, body TEXT NOT NULL, "
        "updated_at DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE alert_channels (name TEXT PRIMARY KEY, body TEXT NOT NULL, "
        "updated_at DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE alert_silences (id TEXT PRIMARY KEY, body TEXT NOT NULL, "
        "starts_at DOUBLE PRECISION NOT NULL, ends_at DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE alert_instances (rule_id TEXT NOT NULL, instance_key INTEGER NOT NULL, "
        "body TEXT NOT NULL, PRIMARY KEY (rule_id, instance_key))",
        "CREATE TABLE alert_transitions (id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, "
        "rule_id TEXT NOT NULL, rule_name TEXT NOT NULL, metric TEXT NOT NULL, gpu_id INTEGER, "
        "instance TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL, previous TEXT NOT NULL, "
        "kind TEXT NOT NULL, value DOUBLE PRECISION, threshold DOUBLE PRECISION NOT NULL, "
        "ts DOUBLE PRECISION NOT NULL, active_since DOUBLE PRECISION NOT NULL, notify INTEGER NOT NULL, "
        "suppressed TEXT, summary TEXT NOT NULL, payload TEXT NOT NULL)",
        "CREATE INDEX alert_transitions_ts ON alert_transitions (ts)",
        "CREATE INDEX alert_transitions_rule ON alert_transitions (rule_id, ts)",
        "CREATE TABLE alert_outbox (id TEXT PRIMARY KEY, transition_id TEXT NOT NULL, "
        "channel TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, "
        "next_attempt_at DOUBLE PRECISION NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
        "delivered_at DOUBLE PRECISION, last_error TEXT)",
        "CREATE INDEX alert_outbox_transition ON alert_outbox (transition_id)",
        "CREATE INDEX alert_outbox_status ON alert_outbox (status)",
        "CREATE TABLE alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # Version 2: built-in rules are seeded one by one ("seeded:<id>" in alert_meta), so a rule added by
    # a later release reaches existing databases while deleted ones stay deleted. Databases seeded by
    # version 1 get a marker for each rule that release seeded.
    tuple(
        "INSERT INTO alert_meta (key, value) SELECT 'seeded:" + rule_id + "', '1' "
        "WHERE EXISTS (SELECT 1 FROM alert_meta WHERE key = 'defaults_seeded')"
        for rule_id in (
            "gpu-temperature-critical",
            "gpu-memory-full",
            "gpu-xid",
            "gpu-ecc-uncorrectable",
            "gpu-lost",
            "sampler-stalled",
            "gpu-allocated-idle",
        )
    ),
)
# Version 3: the node. Each node keeps its own alert state, transitions and outbox apart in a shared
# database (an instance key is per node, and a node delivers only its own notifications); rules, channels
# and silences stay shared, one fleet policy edited once. Rows from before get node '' until the first
# node to start after the upgrade claims them (``AlertRepository.migrate``).
_V3_COMMON = (
    "ALTER TABLE alert_transitions ADD COLUMN node_id TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX alert_transitions_node ON alert_transitions (node_id, ts)",
    "ALTER TABLE alert_outbox ADD COLUMN node_id TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX alert_outbox_node ON alert_outbox (node_id, status)",
)
V3_SQLITE = (
    "CREATE TABLE alert_instances_v3 (node_id TEXT NOT NULL, rule_id TEXT NOT NULL, "
    "instance_key INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (node_id, rule_id, instance_key))",
    "INSERT INTO alert_instances_v3 (node_id, rule_id, instance_key, body) "
    "SELECT '', rule_id, instance_key, body FROM alert_instances",
    "DROP TABLE alert_instances",
    "ALTER TABLE alert_instances_v3 RENAME TO alert_instances",
    *_V3_COMMON,
)
V3_POSTGRESQL = (
    "ALTER TABLE alert_instances ADD COLUMN node_id TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE alert_instances DROP CONSTRAINT alert_instances_pkey",
    "ALTER TABLE alert_instances ADD CONSTRAINT alert_instances_pkey "
    "PRIMARY KEY (node_id, rule_id, instance_key)",
    *_V3_COMMON,
)
ALERTS_SCHEMA = MigrationSet(
    "alerts_schema_version",
    (
        *(Migration.portable(version, ddl) for version, ddl in enumerate(MIGRATIONS, start=1)),
        Migration(len(MIGRATIONS) + 1, V3_SQLITE, V3_POSTGRESQL),
    ),
)
UNCLAIMED_NODE = ""
"""The node of alert rows written before nodes existed."""
NODE_TABLES = ("alert_instances", "alert_transitions", "alert_outbox")
CONFIG_VERSION_KEY = "config_version"
CONFIG_CHANNEL = "gpu_sentinel_alert_config"
"""The NOTIFY channel on which a change of rules, channels or silences is announced (PostgreSQL); its
payload is the schema, so fleets in other schemas of the same database ignore it."""
_BUMP_CONFIG_VERSION = (
    "INSERT INTO alert_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
HISTORY_COLUMNS = (
    "id, alert_id, rule_id, rule_name, metric, gpu_id, instance, severity, state, previous, kind, "
    "value, threshold, ts, active_since, notify, suppressed, summary"
)
_INSERT_TRANSITION = (
    f"INSERT INTO alert_transitions ({HISTORY_COLUMNS}, payload, node_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTBOX = (
    "INSERT INTO alert_outbox (id, transition_id, channel, status, attempts, next_attempt_at, created_at, "
    "node_id) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
# Nodes starting together on a fresh shared database may seed the same rule at once: the first wins.
_SEED_RULE = "INSERT INTO alert_rules (id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING"
_SEED_MARK = "INSERT INTO alert_meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING"
_UPSERT_INSTANCE = (
    "INSERT INTO alert_instances (node_id, rule_id, instance_key, body) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (node_id, rule_id, instance_key) DO UPDATE SET body = excluded.body"
)
# On a shared database a hub may acknowledge an alert whose owner has not read that yet: the owner's
# next write of the same firing keeps the acknowledgement.
_UPSERT_INSTANCE_KEEPING_ACK = (
    "INSERT INTO alert_instances (node_id, rule_id, instance_key, body) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (node_id, rule_id, instance_key) DO UPDATE SET body = CASE "
    "WHEN alert_instances.body::jsonb ->> 'acked_at' IS NULL "
    "OR excluded.body::jsonb ->> 'acked_at' IS NOT NULL "
    "OR alert_instances.body::jsonb -> 'active_since' <> excluded.body::jsonb -> 'active_since' "
    "THEN excluded.body ELSE (excluded.body::jsonb || jsonb_build_object("
    "'acked_by', alert_instances.body::jsonb -> 'acked_by', "
    "'acked_at', alert_instances.body::jsonb -> 'acked_at'))::text END"
)
ALERT_CHANNEL = "gpu_sentinel_alert"
"""Where a shared database announces each recorded transition (its id), for hubs to push to browsers."""
_NOTIFY_TRANSITION = f"SELECT pg_notify('{ALERT_CHANNEL}', ?)"
_ACKNOWLEDGE_INSTANCE = (
    "UPDATE alert_instances SET body = (body::jsonb || jsonb_build_object("
    "'acked_by', ?::text, 'acked_at', ?::float8))::text "
    "WHERE node_id = ? AND rule_id = ? AND instance_key = ? "
    "AND (body::jsonb ->> 'active_since')::float8 = ?"
)


@dataclass(slots=True)
class OutboxItem:
    """One notification owed to one channel. ``id`` is the idempotency key: transition id + channel."""

    id: str
    transition_id: str
    channel: str
    attempts: int
    next_attempt_at: float
    created_at: float
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    rule_id: str | None = None
    gpu_id: int | None = None
    severity: str | None = None
    state: str | None = None
    start: float | None = None
    end: float | None = None
    limit: int = 100
    offset: int = 0
    all_nodes: bool = False
    """Every node's transitions (each says its ``node_id``), not only this node's."""


def outbox_id(transition_id: str, channel: str) -> str:
    return f"{transition_id}:{channel}"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class AlertRepository:
    """Rules, channels, silences, active alerts, transitions and the outbox, over a ``Database``.
    Alert state, transitions and the outbox are ``node_id``'s own; rules, channels and silences shared."""

    def __init__(
        self, database: Database, node_id: str = UNCLAIMED_NODE, *, lock: threading.Lock | None = None
    ) -> None:
        self.database = database
        self.node_id = node_id
        self._lock = lock or threading.Lock()

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._lock:
            self.database.execute(statements)

    def for_node(self, node_id: str) -> AlertRepository:
        """The same database and writer lock, keeping alert state, transitions and outbox as ``node_id``'s."""
        return AlertRepository(self.database, node_id, lock=self._lock)

    def migrate(self) -> int:
        """Upgrade, then claim rows from before nodes existed (only the first node to start gets them)."""
        with self._lock:
            version = self.database.migrate(ALERTS_SCHEMA)
            if self.node_id != UNCLAIMED_NODE:
                claim = f"SET node_id = ? WHERE node_id = '{UNCLAIMED_NODE}'"
                self.database.execute([(f"UPDATE {table} {claim}", (self.node_id,)) for table in NODE_TABLES])
            return version

    # -- configuration -----------------------------------------------------------------------------

    def seed_defaults(self, rules: Iterable[RuleSpec], now: float) -> bool:
        """Insert each built-in rule once per database; later edits and deletions stick, and a rule new
        in this release is added to an existing database. True when any rule was added."""
        seeded = {
            row[0]
            for row in self.database.query("SELECT key FROM alert_meta WHERE key LIKE ?", ("seeded:%",))
        }
        statements: list[Statement] = []
        for rule in rules:
            if f"seeded:{rule.id}" in seeded:
                continue
            statements += [
                (_SEED_RULE, (rule.id, rule.model_dump_json(), now)),
                (_SEED_MARK, (f"seeded:{rule.id}",)),
            ]
        if not statements:
            return False
        self._change(statements)
        return True

    def rules(self) -> list[RuleSpec]:
        return _readable(RuleSpec, self.database.query("SELECT id, body FROM alert_rules ORDER BY id"))

    def save_rules(self, rules: Iterable[RuleSpec], now: float) -> None:
        self._change(
            [
                (
                    "INSERT INTO alert_rules (id, body, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    (rule.id, rule.model_dump_json(), now),
                )
                for rule in rules
            ]
        )

    def delete_rule(self, rule_id: str) -> None:
        self._change(
            [
                ("DELETE FROM alert_rules WHERE id = ?", (rule_id,)),
                ("DELETE FROM alert_instances WHERE node_id = ? AND rule_id = ?", (self.node_id, rule_id)),
            ]
        )

    def channels(self) -> list[ChannelSpec]:
        rows = self.database.query("SELECT name, body FROM alert_channels ORDER BY name")
        return _readable(ChannelSpec, rows)

    def save_channels(self, channels: Iterable[ChannelSpec], now: float) -> None:
        self._change(
            [
                (
                    "INSERT INTO alert_channels (name, body, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    (channel.name, _json(channel.stored()), now),
                )
                for channel in channels
            ]
        )

    def delete_channel(self, name: str) -> None:
        self._change([("DELETE FROM alert_channels WHERE name = ?", (name,))])

    def silences(self) -> list[SilenceSpec]:
        rows = self.database.query("SELECT id, body FROM alert_silences ORDER BY starts_at, id")
        return _readable(SilenceSpec, rows)

    def save_silences(self, silences: Iterable[SilenceSpec]) -> None:
        self._change(
            [
                (
                    "INSERT INTO alert_silences (id, body, starts_at, ends_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET body = excluded.body, starts_at = excluded.starts_at, "
                    "ends_at = excluded.ends_at",
                    (s.id, s.model_dump_json(), s.starts_at or 0.0, s.ends_at),
                )
                for s in silences
            ]
        )

    def delete_silence(self, silence_id: str) -> None:
        self._change([("DELETE FROM alert_silences WHERE id = ?", (silence_id,))])

    def config_version(self) -> str | None:
        """A token that changes with every change of rules, channels or silences (None before the first):
        a node compares it with the one it loaded to learn, cheaply, that another node changed them."""
        rows = self.database.query("SELECT value FROM alert_meta WHERE key = ?", (CONFIG_VERSION_KEY,))
        return str(rows[0][0]) if rows else None

    def _change(self, statements: Sequence[Statement]) -> None:
        """A configuration change, with a new version token and (PostgreSQL) a notification to every
        node, in the same transaction: the others hear of it only once it is committed."""
        change = [*statements, (_BUMP_CONFIG_VERSION, (CONFIG_VERSION_KEY, uuid.uuid4().hex))]
        if self.database.backend == "postgresql":
            change.append(("SELECT pg_notify(?, current_schema())", (CONFIG_CHANNEL,)))
        self.execute(change)

    def writer_lock(self) -> threading.Lock:
        """The lock writes through this database take, for a repository of another kind to share."""
        return self._lock

    @property
    def shared(self) -> bool:
        """Whether other processes (hubs) may write this node's alert state: a PostgreSQL database."""
        return self.database.backend == "postgresql"

    def _instance_statement(self, instance: Instance) -> Statement:
        upsert = _UPSERT_INSTANCE_KEEPING_ACK if self.shared else _UPSERT_INSTANCE
        return (upsert, (self.node_id, instance.rule_id, instance.key, _json(asdict(instance))))

    # -- alert state -------------------------------------------------------------------------------

    def instances(self) -> list[Instance]:
        rows = self.database.query("SELECT body FROM alert_instances WHERE node_id = ?", (self.node_id,))
        return [Instance(**orjson.loads(row[0])) for row in rows]

    def save_instance(self, instance: Instance) -> None:
        self.execute([self._instance_statement(instance)])

    def acknowledge_stored(self, instance: Instance, by: str, now: float) -> None:
        """Acknowledge this firing of a stored alert (not a later one under the same key) in the
        database, for the process that owns it to read back (a shared database only)."""
        params = (by, now, self.node_id, instance.rule_id, instance.key, instance.active_since)
        self.execute([(_ACKNOWLEDGE_INSTANCE, params)])

    def read_acknowledgements(self, instances: Iterable[Instance]) -> list[Instance]:
        """Copy onto these in-memory alerts the acknowledgements stored for the same firing since they
        were read; returns the alerts that gained one."""
        waiting = [instance for instance in instances if instance.acked_at is None]
        if not waiting:
            return []
        stored = {(i.rule_id, i.key, i.active_since): i for i in self.instances()}
        gained = []
        for instance in waiting:
            found = stored.get((instance.rule_id, instance.key, instance.active_since))
            if found is not None and found.acked_at is not None:
                instance.acked_by, instance.acked_at = found.acked_by, found.acked_at
                gained.append(instance)
        return gained

    def last_notified(self) -> list[tuple[str, int, float]]:
        """When each alert last notified on firing, so a restart keeps honouring the cooldown."""
        rows = self.database.query(
            "SELECT rule_id, COALESCE(gpu_id, -1), MAX(ts) FROM alert_transitions "
            "WHERE node_id = ? AND notify = 1 AND state = 'firing' GROUP BY rule_id, COALESCE(gpu_id, -1)",
            (self.node_id,),
        )
        return [(str(r[0]), int(r[1]), float(r[2])) for r in rows]

    def last_notified_alerts(self) -> dict[str, float]:
        """When each alert (by ``alert_id``) last notified while firing: the cooldown of alerts whose
        instance key means nothing across restarts (the fleet's)."""
        rows = self.database.query(
            "SELECT alert_id, MAX(ts) FROM alert_transitions "
            "WHERE node_id = ? AND notify = 1 AND state = 'firing' GROUP BY alert_id",
            (self.node_id,),
        )
        return {str(r[0]): float(r[1]) for r in rows}

    def record(
        self,
        entries: Sequence[tuple[Transition, Sequence[str], Instance | None]],
        now: float,
    ) -> list[OutboxItem]:
        """Each transition with an outbox row per channel and the alert's new state, in one transaction;
        on a shared database also announced to hubs, which hear of it once it is committed."""
        statements: list[Statement] = []
        items: list[OutboxItem] = []
        for transition, channels, instance in entries:
            payload = transition.payload()
            statements.append((_INSERT_TRANSITION, (*_transition_row(transition, payload), self.node_id)))
            if self.shared:
                statements.append((_NOTIFY_TRANSITION, (transition.id,)))
            for channel in channels:
                item = OutboxItem(
                    outbox_id(transition.id, channel), transition.id, channel, 0, now, now, payload
                )
                statements.append((_INSERT_OUTBOX, (item.id, transition.id, channel, now, now, self.node_id)))
                items.append(item)
            if instance is None:
                statements.append(
                    (
                        "DELETE FROM alert_instances WHERE node_id = ? AND rule_id = ? AND instance_key = ?",
                        (self.node_id, transition.rule.id, transition.key),
                    )
                )
            else:
                statements.append(self._instance_statement(instance))
        if statements:
            self.execute(statements)
        return items

    # -- outbox ------------------------------------------------------------------------------------

    def pending_outbox(self) -> list[OutboxItem]:
        rows = self.database.query(
            "SELECT o.id, o.transition_id, o.channel, o.attempts, o.next_attempt_at, o.created_at, t.payload "
            "FROM alert_outbox o JOIN alert_transitions t ON t.id = o.transition_id "
            "WHERE o.node_id = ? AND o.status = 'pending' ORDER BY o.created_at, t.ts, o.id",
            (self.node_id,),
        )
        return [
            OutboxItem(
                str(r[0]), str(r[1]), str(r[2]), int(r[3]), float(r[4]), float(r[5]), orjson.loads(r[6])
            )
            for r in rows
        ]

    def mark_delivered(self, item_id: str, now: float) -> None:
        self.execute(
            [
                (
                    "UPDATE alert_outbox SET status = 'delivered', delivered_at = ?, "
                    "attempts = attempts + 1, last_error = NULL WHERE id = ? AND status = 'pending'",
                    (now, item_id),
                )
            ]
        )

    def mark_retry(self, item_id: str, attempts: int, next_attempt_at: float, error: str) -> None:
        self.execute(
            [
                (
                    "UPDATE alert_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? "
                    "WHERE id = ? AND status = 'pending'",
                    (attempts, next_attempt_at, error[:1000], item_id),
                )
            ]
        )

    def mark_failed(self, item_id: str, attempts: int, error: str) -> None:
        self.execute(
            [
                (
                    "UPDATE alert_outbox SET status = 'failed', attempts = ?, last_error = ? "
                    "WHERE id = ? AND status = 'pending'",
                    (attempts, error[:1000], item_id),
                )
            ]
        )

    def deliveries(self, transition_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        if not transition_ids:
            return {}
        marks = ", ".join("?" for _ in transition_ids)
        rows = self.database.query(
            "SELECT transition_id, channel, status, attempts, delivered_at, last_error FROM alert_outbox "
            f"WHERE transition_id IN ({marks}) ORDER BY channel",
            tuple(transition_ids),
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            found.setdefault(str(r[0]), []).append(
                {"channel": r[1], "status": r[2], "attempts": r[3], "delivered_at": r[4], "last_error": r[5]}
            )
        return found

    # -- history -----------------------------------------------------------------------------------

    def history(self, query: HistoryFilter) -> tuple[int, list[dict[str, Any]]]:
        """One page of transitions, newest first, each with its delivery status per channel."""
        where: list[str] = [] if query.all_nodes else ["node_id = ?"]
        params: list[Any] = [] if query.all_nodes else [self.node_id]
        for column, value in (
            ("rule_id", query.rule_id),
            ("gpu_id", query.gpu_id),
            ("severity", query.severity),
            ("state", query.state),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.start is not None:
            where.append("ts >= ?")
            params.append(query.start)
        if query.end is not None:
            where.append("ts < ?")
            params.append(query.end)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = int(self.database.query(f"SELECT COUNT(*) FROM alert_transitions{clause}", params)[0][0])
        rows = self.database.query(
            f"SELECT {HISTORY_COLUMNS}, node_id FROM alert_transitions{clause} "
            "ORDER BY ts DESC, id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        names = [name.strip() for name in HISTORY_COLUMNS.split(",")] + ["node_id"]
        items = [dict(zip(names, row, strict=True)) for row in rows]
        deliveries = self.deliveries([item["id"] for item in items])
        for item in items:
            item["notify"] = bool(item["notify"])
            item["deliveries"] = deliveries.get(item["id"], [])
        return total, items

    def prune(self, before: float) -> None:
        """Retention: forget transitions older than ``before`` once nothing is owed for them."""
        self.execute(
            [
                (
                    "DELETE FROM alert_outbox WHERE status <> 'pending' AND transition_id IN "
                    "(SELECT id FROM alert_transitions WHERE ts < ?)",
                    (before,),
                ),
                (
                    "DELETE FROM alert_transitions WHERE ts < ? AND NOT EXISTS "
                    "(SELECT 1 FROM alert_outbox o WHERE o.transition_id = alert_transitions.id)",
                    (before,),
                ),
                ("DELETE FROM alert_silences WHERE ends_at < ?", (before,)),
            ]
        )


log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def _readable(model: type[M], rows: Iterable[Sequence[Any]]) -> list[M]:
    """The rows this version can read. One it cannot (a rule on a metric a newer version added, say)
    is left in the database and skipped with a warning, rather than stopping alerting altogether."""
    readable: list[M] = []
    for key, body in rows:
        try:
            readable.append(model.model_validate_json(body))
        except ValidationError as error:
            problem = error.errors()[0]["msg"].removeprefix("Value error, ")[:200]
            log.warning(
                "ignoring stored %s %r, which this version cannot read: %s", model.__name__, key, problem
            )
    return readable


def _transition_row(transition: Transition, payload: dict[str, Any]) -> tuple[Any, ...]:
    rule = transition.rule
    return (
        transition.id,
        transition.alert_id,
        rule.id,
        rule.name,
        rule.metric,
        transition.gpu_id,
        transition.instance,
        rule.severity,
        transition.state,
        transition.previous,
        transition.kind,
        transition.value,
        transition.threshold,
        transition.timestamp,
        transition.active_since,
        1 if transition.notify else 0,
        transition.suppressed,
        payload["summary"],
        _json(payload),
    )
