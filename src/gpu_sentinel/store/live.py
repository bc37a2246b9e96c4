"""Each node's latest live state in the shared database: the table (one migration entry) and its SQL.

One row per node, overwritten in place about once a second: only the newest state matters, so the table
never grows with time and a node that was away for an hour costs nothing to catch up. On PostgreSQL a
row remembers the database role that wrote it (``owner_role``), so row-level security can let each node
write only its own row (see the README's Fleet section).
"""

from __future__ import annotations

LIVE_CHANNEL = "gpu_sentinel_live"
"""The NOTIFY channel; each notification's payload is the id of the node whose row changed."""

_COLUMNS = (
    "node_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, metrics_url TEXT NOT NULL,"
    " gpu_count INTEGER NOT NULL, alerts_firing INTEGER, heartbeat DOUBLE PRECISION NOT NULL,"
    " state TEXT NOT NULL"
)
# Version 6 of the history schema: the live-state table. Frozen once released.
SQLITE_DDL: tuple[str, ...] = (f"CREATE TABLE node_live ({_COLUMNS}, owner_role TEXT)",)
POSTGRESQL_DDL: tuple[str, ...] = (
    f"CREATE TABLE node_live ({_COLUMNS}, owner_role TEXT NOT NULL DEFAULT current_user)",
)

_SELECT = (
    "SELECT node_id, name, version, metrics_url, gpu_count, alerts_firing, heartbeat, state FROM node_live"
)
SELECT_ALL = _SELECT
SELECT_SOME = _SELECT + " WHERE node_id = ANY(%s)"
SELECT_HEARTBEATS = "SELECT node_id, heartbeat FROM node_live"
# Upsert and notify in one statement: one round trip, one transaction, and hubs hear of the row only
# once it is committed.
UPSERT_AND_NOTIFY = (
    "WITH up AS (INSERT INTO node_live"
    " (node_id, name, version, metrics_url, gpu_count, alerts_firing, heartbeat, state)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (node_id) DO UPDATE SET"
    " name = excluded.name, version = excluded.version, metrics_url = excluded.metrics_url,"
    " gpu_count = excluded.gpu_count, alerts_firing = excluded.alerts_firing,"
    " heartbeat = excluded.heartbeat, state = excluded.state RETURNING node_id)"
    f" SELECT pg_notify('{LIVE_CHANNEL}', node_id) FROM up"
)
