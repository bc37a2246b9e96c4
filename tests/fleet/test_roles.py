"""The README's least-privilege roles, run as written against the real PostgreSQL: a node role writes
its own live-state row and nothing else's, a hub role reads and listens but cannot write live state."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gpu_sentinel.alerts.repository import AlertRepository
from gpu_sentinel.fleet.hub import FleetHub
from gpu_sentinel.fleet.publisher import LivePublisher
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store.postgres import PostgresDatabase
from tests.fleet.conftest import wait_until
from tests.store.helpers import PG_DSN, RUN_ID, gpu, snapshot

pytestmark = pytest.mark.real_component
README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("gpu_sentinel_node", "gpu_sentinel_hub", "node_gpu01", "hub01")


def readme_sql() -> str:
    text = README.read_text()
    match = re.search(r"```sql\n(-- fleet roles.*?)```", text, re.S)
    assert match, "the README's Fleet section gives the roles' SQL"
    return match.group(1)


@pytest.fixture
def schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """(this test's schema, its URL as the owner), migrated, with the README's roles made in it."""
    name = re.search(r"search_path%3D(\w+)", pg_url)
    assert name
    database = PostgresDatabase(pg_url)
    database.migrate()
    AlertRepository(database).migrate()
    database.close()
    sql = readme_sql().replace("SCHEMA public", f"SCHEMA {name.group(1)}")
    for role in ROLES:
        sql = re.sub(rf"\b{role}\b", f"{role}_{RUN_ID}", sql)
    with psycopg.connect(pg_url, autocommit=True) as owner:
        owner.execute(sql.encode())
    try:
        yield name.group(1), pg_url
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as owner:
            for role in ROLES:
                owner.execute(f"DROP OWNED BY {role}_{RUN_ID}".encode())
            for role in reversed(ROLES):
                owner.execute(f"DROP ROLE {role}_{RUN_ID}".encode())


def as_role(schema: str, role: str) -> str:
    return make_conninfo(PG_DSN, user=f"{role}_{RUN_ID}", options=f"-csearch_path={schema}")


def publisher(url: str, node_id: str, name: str) -> LivePublisher:
    return LivePublisher(
        url, NodeIdentity(node_id, name), version="1", metrics_url="http://x:1/metrics", interval_s=1.0
    )


def test_nodes_write_only_their_own_row_and_hubs_only_read(schema: tuple[str, str]) -> None:
    name, owner_url = schema
    node_id = "a" * 32
    own = publisher(as_role(name, "node_gpu01"), node_id, "gpu01")
    assert own.publish(snapshot(1, time.time(), [gpu(0)]))

    hub = FleetHub(as_role(name, "hub01"))
    hub.start()
    try:
        seen = wait_until(lambda: hub.nodes.get(node_id), "the hub role to read the node's row")
        assert seen.name == "gpu01" and len(seen.gpus) == 1
        assert own.publish(snapshot(2, time.time(), [gpu(0), gpu(1)]))
        wait_until(lambda: len(hub.nodes[node_id].gpus) == 2, "the NOTIFY to reach the hub role")
    finally:
        hub.stop()

    # Another node's role may not take the row over, even with the same node id.
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE node_other_{RUN_ID} LOGIN IN ROLE gpu_sentinel_node_{RUN_ID}".encode())
    try:
        intruder = publisher(as_role(name, "node_other"), node_id, "impostor")
        assert not intruder.publish(snapshot(3, time.time(), [gpu(0)]))
    finally:
        with psycopg.connect(owner_url, autocommit=True) as owner:
            owner.execute(f"DROP ROLE node_other_{RUN_ID}".encode())
    with psycopg.connect(owner_url) as owner:
        assert owner.execute(b"SELECT name FROM node_live").fetchall() == [("gpu01",)]

    # The hub role reads and listens, but cannot write live state.
    with psycopg.connect(as_role(name, "hub01"), autocommit=True) as hub_connection:
        hub_connection.execute(b"LISTEN gpu_sentinel_live")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            hub_connection.execute(b"DELETE FROM node_live")
