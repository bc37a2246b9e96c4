"""The alert worker as the one owner of alert state: rule, channel and silence changes from many API
threads while alerts fire lose nothing, tear nothing, and every rule that exists is the one evaluated."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from gpu_sentinel.alerts.channels import ChannelReplacement, ChannelSpec
from gpu_sentinel.alerts.errors import AlertConflictError, AlertsUnavailableError
from gpu_sentinel.alerts.manager import AlertManager
from gpu_sentinel.alerts.repository import HistoryFilter
from gpu_sentinel.alerts.rules import Matcher, RuleSpec, RuleUpdate, SilenceSpec
from tests.alerts.conftest import ManagerFactory
from tests.alerts.helpers import gpu, snapshot, temps

THREADS = 4
ROUNDS = 12
PAIRS = 30
HOT = RuleSpec(
    id="hot", name="GPU hot", metric="gpu.temperature_c", condition=">=", threshold=85, channels=[]
)


def busy_rule(rule_id: str, label: str) -> RuleSpec:
    """A host rule that stays quiet until the test's last snapshot drives the CPU to 99 %."""
    return RuleSpec(id=rule_id, name=f"CPU busy {label}", metric="host.cpu_pct", threshold=95, channels=[])


class Expected:
    """What the threads leave behind, keyed by identifier; each thread writes only its own keys."""

    def __init__(self) -> None:
        self.rules: dict[str, RuleSpec] = {}
        self.channels: dict[str, ChannelSpec] = {}
        self.silences: dict[str, SilenceSpec] = {}
        self.conflicts = 0
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()


def change_config(manager: AlertManager, thread: int, expected: Expected) -> None:
    config = manager.config
    for i in range(ROUNDS):
        label = f"{thread}-{i}"
        rule = config.create_rule(busy_rule(f"r-{label}", label))
        rule = config.update_rule(rule.id, RuleUpdate(description=f"round {label}", threshold=95 + i % 4))
        channel = config.create_channel(
            ChannelSpec(
                name=f"c-{label}",
                type="webhook",
                enabled=False,
                url=f"http://127.0.0.1:9/{label}",
                secret=f"secret-{label}",
                headers={"X-Round": label},
            )
        )
        without_secret = channel.model_dump(exclude={"secret"})
        channel = config.replace_channel(
            channel.name, ChannelReplacement.model_validate({**without_secret, "min_severity": "critical"})
        )
        silence = config.create_silence(
            SilenceSpec(
                id=f"s-{label}",
                matchers=[Matcher(label="rule_id", value=f"r-{label}")],
                ends_at=time.time() + 3600,
                comment=f"round {label}",
            )
        )
        try:
            shared = config.create_rule(busy_rule(f"shared-{i}", f"shared {i}"))
        except AlertConflictError:
            with expected.lock:
                expected.conflicts += 1
        else:
            expected.rules[shared.id] = shared
        if i % 3 == 0:
            config.delete_silence(silence.id)
            config.delete_channel(channel.name)
            config.delete_rule(rule.id)
            continue
        expected.rules[rule.id] = rule
        expected.channels[channel.name] = channel
        expected.silences[silence.id] = silence


def heat_and_cool(manager: AlertManager, start: float) -> None:
    """Fire and resolve ``hot`` on both GPUs, checking after each snapshot that the alerts follow."""
    for n in range(PAIRS):
        manager.ingest(temps(start + 2 * n, 90, 91))
        active = {alert["id"]: alert["state"] for alert in manager.active()}
        assert active.get("hot:gpu0") == active.get("hot:gpu1") == "firing", active
        manager.ingest(temps(start + 2 * n + 1, 60, 61))
        assert not any(key.startswith("hot:") for key in (a["id"] for a in manager.active()))


def run_all(targets: list[Callable[[], None]], expected: Expected) -> None:
    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:
            with expected.lock:
                expected.errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"


def assert_config(manager: AlertManager, expected: Expected) -> None:
    rules = {r.id: r for r in manager.config.rules() if not r.builtin and r.id != HOT.id}
    assert rules == expected.rules
    assert {c.name: c for c in manager.config.channels()} == expected.channels
    assert {s.id: s for s in manager.config.silences()} == expected.silences


def test_concurrent_changes_while_alerts_fire(make_manager: ManagerFactory, database_url: str) -> None:
    manager = make_manager(database_url)
    manager.config.create_rule(HOT)
    expected = Expected()
    start = time.time()
    run_all(
        [lambda t=t: change_config(manager, t, expected) for t in range(THREADS)]  # type: ignore[misc]
        + [lambda: heat_and_cool(manager, start)],
        expected,
    )

    assert expected.errors == []
    assert expected.conflicts == (THREADS - 1) * ROUNDS
    kept = ROUNDS - len(range(0, ROUNDS, 3))
    assert len(expected.rules) == THREADS * kept + ROUNDS
    assert len(expected.channels) == len(expected.silences) == THREADS * kept
    assert_config(manager, expected)
    channel = manager.config.channel("c-0-1")
    assert channel.secret is not None and channel.secret.get_secret_value() == "secret-0-1"
    assert channel.headers == {"X-Round": "0-1"} and channel.min_severity == "critical"

    total, items = manager.history(HistoryFilter(rule_id=HOT.id, limit=1000))
    assert manager.worker.dropped_snapshots == 0
    assert Counter((item["gpu_id"], item["state"]) for item in items) == {
        (gpu_id, state): PAIRS for gpu_id in (0, 1) for state in ("firing", "resolved")
    }
    assert total == 4 * PAIRS

    manager.ingest(snapshot(start + 2 * PAIRS, [gpu(0)], cpu=99.0))
    firing = {a["rule_id"] for a in manager.active() if a["state"] == "firing"}
    assert firing == set(expected.rules)

    manager.stop()
    reopened = make_manager(database_url)
    assert_config(reopened, expected)


def test_deleting_or_disabling_a_firing_rule_records_its_resolution(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    manager.config.create_rule(HOT)
    manager.config.create_rule(HOT.model_copy(update={"id": "hot2"}))
    manager.ingest(temps(time.time(), 90))
    assert {a["id"] for a in manager.active()} == {"hot:gpu0", "hot2:gpu0"}

    manager.config.delete_rule("hot")
    manager.config.update_rule("hot2", RuleUpdate(enabled=False))

    assert manager.active() == []
    _, items = manager.history(HistoryFilter(state="resolved"))
    assert sorted(item["rule_id"] for item in items) == ["hot", "hot2"]


def test_changes_after_stop_are_refused_with_503(make_manager: ManagerFactory) -> None:
    manager = make_manager()
    manager.worker.stop()
    with pytest.raises(AlertsUnavailableError, match="Alerting is not running") as refused:
        manager.config.create_rule(HOT)
    assert refused.value.status_code == 503


def test_a_stored_rule_this_version_cannot_read_is_skipped_not_fatal(
    make_manager: ManagerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    manager = make_manager()
    manager.config.create_rule(HOT)
    newer = HOT.model_dump_json().replace("gpu.temperature_c", "gpu.metric_of_a_newer_release")
    manager.repository.execute(
        [("INSERT INTO alert_rules (id, body, updated_at) VALUES (?, ?, ?)", ("newer", newer, 0.0))]
    )
    manager.stop()

    reopened = make_manager()
    assert HOT.id in {rule.id for rule in reopened.config.rules()}
    assert "newer" not in {rule.id for rule in reopened.config.rules()}
    assert "ignoring stored RuleSpec 'newer'" in caplog.text
    assert "unknown metric 'gpu.metric_of_a_newer_release'" in caplog.text
