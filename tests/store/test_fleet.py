"""Several nodes in one history database: each writes its own rows under its own key, reads its own by
default and another's when named, rolls up and prunes only its own, and usage adds them up per user."""

from __future__ import annotations

import time

import pytest

from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import HistoryStore, TrendQuery
from gpu_sentinel.store.errors import UnknownNodeError
from tests.store.conftest import StoreFactory
from tests.store.helpers import feed, gpu, process

ALPHA = NodeIdentity("a" * 32, "alpha")
BETA = NodeIdentity("b" * 32, "beta")


def averages(store: HistoryStore, query: TrendQuery) -> dict[int | None, list[float | None]]:
    return {series.gpu_id: series.avg for series in store.trends(query).series}


def test_two_nodes_writing_the_same_gpus_at_the_same_seconds_keep_their_rows_apart(
    make_store: StoreFactory,
) -> None:
    start = (int(time.time()) // 60 - 10) * 60
    alpha, beta = make_store(node=ALPHA), make_store(node=BETA)
    feed(
        alpha, start, 120, lambda ts: [gpu(0, util=30.0, processes=[process(7, "alice")]), gpu(1, util=35.0)]
    )
    feed(beta, start, 120, lambda ts: [gpu(0, util=70.0, processes=[process(7, "bob")]), gpu(1, util=75.0)])

    per_second = TrendQuery(("gpu_utilization",), start, start + 3, None, 1)
    assert averages(alpha, per_second) == {0: [30.0] * 3, 1: [35.0] * 3}
    assert averages(beta, per_second) == {0: [70.0] * 3, 1: [75.0] * 3}
    # Either node reads the other's by name or by id; rolled-up tiers stay each node's own.
    for named in ("beta", BETA.id):
        assert averages(alpha, TrendQuery(("gpu_utilization",), start, start + 3, (0,), 1, named)) == {
            0: [70.0] * 3
        }
    per_minute = TrendQuery(("gpu_utilization",), start, start + 120, (0,), 60, "alpha")
    assert averages(beta, per_minute) == {0: [30.0, 30.0]}
    assert averages(beta, TrendQuery(("gpu_utilization",), start, start + 120, (0,), 60)) == {0: [70.0, 70.0]}
    assert averages(alpha, TrendQuery(("cpu_utilization",), start, start + 2, None, 1, "beta")) == {
        None: [20.0, 20.0]
    }
    assert [(node.name, node.id) for node in alpha.nodes()] == [("alpha", ALPHA.id), ("beta", BETA.id)]
    assert alpha.gpu_ids("beta") == [0, 1]


def test_usage_of_every_node_says_which_node_each_row_is_from(make_store: StoreFactory) -> None:
    start = (int(time.time()) // 60 - 10) * 60
    alpha, beta = make_store(node=ALPHA), make_store(node=BETA)
    feed(alpha, start, 120, lambda ts: [gpu(0, util=50.0, processes=[process(7, "alice")])])
    feed(beta, start, 120, lambda ts: [gpu(0, util=50.0, processes=[process(9, "alice"), process(8, "bob")])])

    own = alpha.usage(start, start + 120)
    assert [(item.node, item.gpu_id) for item in own.gpus] == [("alpha", 0)]
    assert [(item.node, item.user) for item in own.processes] == [("alpha", "alice")]

    fleet = alpha.usage(start, start + 120, node="all")
    assert [(item.node, item.gpu_id) for item in fleet.gpus] == [("alpha", 0), ("beta", 0)]
    assert sorted((item.node, item.pid, item.user) for item in fleet.processes) == [
        ("alpha", 7, "alice"),
        ("beta", 8, "bob"),
        ("beta", 9, "alice"),
    ]
    alice, bob = fleet.users
    assert (alice.user, alice.nodes, alice.processes) == ("alice", ["alpha", "beta"], 2)
    # Her share of each node's GPU time, added up: half of alpha's GPU, a quarter of beta's (bob has one).
    (on_alpha,) = own.users
    (on_beta,) = [user for user in beta.usage(start, start + 120).users if user.user == "alice"]
    assert on_alpha.gpu_hours == pytest.approx(2 * on_beta.gpu_hours)
    assert alice.gpu_hours == pytest.approx(on_alpha.gpu_hours + on_beta.gpu_hours)
    assert (bob.user, bob.nodes) == ("bob", ["beta"])
    assert beta.usage(start, start + 120, node="alpha").gpus[0].node == "alpha"


def test_an_unknown_node_is_refused_with_the_known_ones(make_store: StoreFactory) -> None:
    start = int(time.time()) - 60
    alpha, beta = make_store(node=ALPHA), make_store(node=BETA)
    feed(alpha, start, 2, lambda ts: [gpu(0)])
    feed(beta, start, 2, lambda ts: [gpu(0)])
    with pytest.raises(UnknownNodeError, match=r"Node 'gamma' is no node with history: known nodes are "):
        alpha.trends(TrendQuery((), start, start + 2, None, 1, "gamma"))
    with pytest.raises(UnknownNodeError, match="beta"):
        alpha.usage(start, start + 2, node="gamma")
    twin = make_store(node=NodeIdentity("c" * 32, "beta"))
    feed(twin, start, 2, lambda ts: [gpu(0)])
    with pytest.raises(UnknownNodeError, match="names several nodes; give its id"):
        alpha.gpu_ids("beta")
    assert alpha.gpu_ids("c" * 32) == [0]


def test_a_node_prunes_only_its_own_rows(make_store: StoreFactory) -> None:
    start = (int(time.time()) // 60 - 10) * 60
    alpha, beta = make_store(node=ALPHA), make_store(node=BETA)
    feed(alpha, start, 30, lambda ts: [gpu(0, util=30.0)])
    feed(beta, start, 30, lambda ts: [gpu(0, util=70.0)])
    alpha.close()
    # alpha comes back three days on: every raw row is past retention for it, its own and beta's alike.
    later = start + 3 * 86400
    alpha = make_store(clock=lambda: later, node=ALPHA)
    assert alpha.flush()

    def raw_rows(node: int) -> int:
        return int(beta.database.query("SELECT COUNT(*) FROM gpu_raw WHERE node = ?", (node,))[0][0])

    assert raw_rows(alpha.node_key()) == 0
    assert raw_rows(beta.node_key()) == 30
    assert averages(beta, TrendQuery(("gpu_utilization",), start, start + 2, (0,), 1)) == {0: [70.0, 70.0]}
