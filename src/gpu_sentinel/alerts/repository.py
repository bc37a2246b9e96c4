"""Alert persistence in the history database, in tables of its own with their own version table, so the
two schemas migrate independently. The DDL is portable (``DOUBLE PRECISION`` is REAL to SQLite).

A transition, its outbox rows and the alert's saved state are written in one transaction: an alert is
either recorded with every notification it owes, or not at all. Writes from the engine thread, the
delivery thread and API requests share one writer connection under a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from gpu_sentinel.alerts.engine import Instance
from gpu_sentinel.alerts.events import Transition
from gpu_sentinel.alerts.rules import ChannelSpec, RuleSpec, SilenceSpec
from gpu_sentinel.store.database import Database, Statement

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
)
VERSION_TABLE = "CREATE TABLE IF NOT EXISTS alerts_schema_version (version INTEGER NOT NULL)"
CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) FROM alerts_schema_version"
HISTORY_COLUMNS = (
    "id, alert_id, rule_id, rule_name, metric, gpu_id, instance, severity, state, previous, kind, "
    "value, threshold, ts, active_since, notify, suppressed, summary"
)
_INSERT_TRANSITION = (
    f"INSERT INTO alert_transitions ({HISTORY_COLUMNS}, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTBOX = (
    "INSERT INTO alert_outbox (id, transition_id, channel, status, attempts, next_attempt_at, created_at) "
    "VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING"
)
_UPSERT_INSTANCE = (
    "INSERT INTO alert_instances (rule_id, instance_key, body) VALUES (?, ?, ?) "
    "ON CONFLICT (rule_id, instance_key) DO UPDATE SET body = excluded.body"
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


def outbox_id(transition_id: str, channel: str) -> str:
    return f"{transition_id}:{channel}"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class AlertRepository:
    """Rules, channels, silences, active alerts, transitions and the outbox, over a ``Database``."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._lock:
            self.database.execute(statements)

    def migrate(self) -> int:
        self.execute([(VERSION_TABLE, ())])
        current = int(self.database.query(CURRENT_VERSION)[0][0])
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version > current:
                self.execute(
                    [
                        *((statement, ()) for statement in statements),
                        ("INSERT INTO alerts_schema_version (version) VALUES (?)", (version,)),
                    ]
                )
                current = version
        return current

    # -- configuration -----------------------------------------------------------------------------

    def seed_defaults(self, rules: Iterable[RuleSpec], now: float) -> bool:
        """Insert the built-in rules once per database; later edits and deletions stick."""
        if self.database.query("SELECT value FROM alert_meta WHERE key = 'defaults_seeded'"):
            return False
        statements: list[Statement] = [
            (
                "INSERT INTO alert_rules (id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (rule.id, rule.model_dump_json(), now),
            )
            for rule in rules
        ]
        statements.append(("INSERT INTO alert_meta (key, value) VALUES ('defaults_seeded', '1')", ()))
        self.execute(statements)
        return True

    def rules(self) -> list[RuleSpec]:
        rows = self.database.query("SELECT body FROM alert_rules ORDER BY id")
        return [RuleSpec.model_validate_json(row[0]) for row in rows]

    def save_rules(self, rules: Iterable[RuleSpec], now: float) -> None:
        self.execute(
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
        self.execute(
            [
                ("DELETE FROM alert_rules WHERE id = ?", (rule_id,)),
                ("DELETE FROM alert_instances WHERE rule_id = ?", (rule_id,)),
            ]
        )

    def channels(self) -> list[ChannelSpec]:
        rows = self.database.query("SELECT body FROM alert_channels ORDER BY name")
        return [ChannelSpec.model_validate_json(row[0]) for row in rows]

    def save_channels(self, channels: Iterable[ChannelSpec], now: float) -> None:
        self.execute(
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
        self.execute([("DELETE FROM alert_channels WHERE name = ?", (name,))])

    def silences(self) -> list[SilenceSpec]:
        rows = self.database.query("SELECT body FROM alert_silences ORDER BY starts_at, id")
        return [SilenceSpec.model_validate_json(row[0]) for row in rows]

    def save_silences(self, silences: Iterable[SilenceSpec]) -> None:
        self.execute(
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
        self.execute([("DELETE FROM alert_silences WHERE id = ?", (silence_id,))])

    # -- alert state -------------------------------------------------------------------------------

    def instances(self) -> list[Instance]:
        rows = self.database.query("SELECT body FROM alert_instances")
        return [Instance(**orjson.loads(row[0])) for row in rows]

    def save_instance(self, instance: Instance) -> None:
        self.execute([_instance_statement(instance)])

    def last_notified(self) -> list[tuple[str, int, float]]:
        """When each alert last notified on firing, so a restart keeps honouring the cooldown."""
        rows = self.database.query(
            "SELECT rule_id, COALESCE(gpu_id, -1), MAX(ts) FROM alert_transitions "
            "WHERE notify = 1 AND state = 'firing' GROUP BY rule_id, COALESCE(gpu_id, -1)"
        )
        return [(str(r[0]), int(r[1]), float(r[2])) for r in rows]

    def record(
        self,
        entries: Sequence[tuple[Transition, Sequence[str], Instance | None]],
        now: float,
    ) -> list[OutboxItem]:
        """Each transition with an outbox row per channel and the alert's new state, in one transaction."""
        statements: list[Statement] = []
        items: list[OutboxItem] = []
        for transition, channels, instance in entries:
            payload = transition.payload()
            statements.append((_INSERT_TRANSITION, _transition_row(transition, payload)))
            for channel in channels:
                item = OutboxItem(
                    outbox_id(transition.id, channel), transition.id, channel, 0, now, now, payload
                )
                statements.append((_INSERT_OUTBOX, (item.id, transition.id, channel, now, now)))
                items.append(item)
            if instance is None:
                statements.append(
                    (
                        "DELETE FROM alert_instances WHERE rule_id = ? AND instance_key = ?",
                        (transition.rule.id, transition.key),
                    )
                )
            else:
                statements.append(_instance_statement(instance))
        if statements:
            self.execute(statements)
        return items

    # -- outbox ------------------------------------------------------------------------------------

    def pending_outbox(self) -> list[OutboxItem]:
        rows = self.database.query(
            "SELECT o.id, o.transition_id, o.channel, o.attempts, o.next_attempt_at, o.created_at, t.payload "
            "FROM alert_outbox o JOIN alert_transitions t ON t.id = o.transition_id "
            "WHERE o.status = 'pending' ORDER BY o.created_at, t.ts, o.id"
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
        where: list[str] = []
        params: list[Any] = []
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
            f"SELECT {HISTORY_COLUMNS} FROM alert_transitions{clause} ORDER BY ts DESC, id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        names = [name.strip() for name in HISTORY_COLUMNS.split(",")]
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


def _instance_statement(instance: Instance) -> Statement:
    return (_UPSERT_INSTANCE, (instance.rule_id, instance.key, _json(asdict(instance))))


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
