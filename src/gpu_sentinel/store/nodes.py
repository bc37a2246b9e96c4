"""The ``nodes`` table: each node id gets a small integer key that every history row carries.

A node registers when its writer first reaches the database. An unclaimed key (version 5 gives rows
written before the node existed key 1) goes to the first node that registers, so on an upgraded
single-node database the old rows stay the local node's; on a shared PostgreSQL only the first node to
start after the upgrade inherits them. Backends call ``register`` inside a transaction that excludes other
registrations (SQLite's write lock, a PostgreSQL advisory lock), so two nodes never take one key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store.batch import Row

Run = Callable[[str, Sequence[Any]], list[Row]]
ALL_NODES_SQL = "SELECT node, id, name FROM nodes WHERE id IS NOT NULL ORDER BY name, id"


@dataclass(frozen=True, slots=True)
class NodeRecord:
    key: int
    id: str
    name: str


def register(run: Run, identity: NodeIdentity, now: int) -> int:
    """This node's key: its own row, else the unclaimed one, else a new one. Refreshes name and last seen."""
    found = run("SELECT node FROM nodes WHERE id = ?", (identity.id,))
    if found:
        key = int(found[0][0])
        run("UPDATE nodes SET name = ?, last_seen = ? WHERE node = ?", (identity.name, now, key))
        return key
    claimed = run(
        "UPDATE nodes SET id = ?, name = ?, first_seen = ?, last_seen = ? "
        "WHERE node = 1 AND id IS NULL RETURNING node",
        (identity.id, identity.name, now, now),
    )
    if claimed:
        return int(claimed[0][0])
    made = run(
        "INSERT INTO nodes (node, id, name, first_seen, last_seen) "
        "SELECT COALESCE(MAX(node), 0) + 1, ?, ?, ?, ? FROM nodes RETURNING node",
        (identity.id, identity.name, now, now),
    )
    return int(made[0][0])


def records(rows: Sequence[Row]) -> list[NodeRecord]:
    return [NodeRecord(int(row[0]), str(row[1]), str(row[2])) for row in rows]
