"""The fleet example in deploy/fleet, checked as far as a machine without Docker allows: the Compose file
against its specification and the files it mounts, the Prometheus configuration by promtool, and the
database roles by running the init scripts on the real PostgreSQL, a node and a hub on them, and what
each role must not do."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gpu_sentinel.alerts.rules import RuleSpec
from gpu_sentinel.cli import main
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.service import Service
from gpu_sentinel.store.database import DatabaseUnavailableError
from gpu_sentinel.store.postgres import PostgresDatabase
from tests.conftest import require_component
from tests.deploy.helpers import DEPLOY, ROOT
from tests.deploy.test_deploy_files import run, tool
from tests.fleet.conftest import fleet_settings, wait_until
from tests.store.helpers import PG_DSN, RUN_ID, pg_available

pytestmark = pytest.mark.real_component
FLEET = DEPLOY / "fleet"
COMPOSE = FLEET / "compose.yaml"
ROLES_SQL = FLEET / "postgres" / "roles.sql"
GRANTS_SQL = FLEET / "postgres" / "grants.sql"
ROLES = (
    "gpu_sentinel_owner",
    "gpu_sentinel_node",
    "gpu_sentinel_hub",
    "node_gpu01",
    "node_gpu02",
    "node_gpu03",
    "hub01",
)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def login(url: str) -> str:
    found = re.match(r"postgresql://(\w+):", url)
    assert found, url
    return found[1]


def test_the_fleet_compose_file_follows_the_compose_specification() -> None:
    checker = tool("check-jsonschema", "pip package check-jsonschema")
    result = run(checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_file_the_fleet_mounts_or_builds_from_exists() -> None:
    services = compose()["services"]
    mounted = 0
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (FLEET / source).exists(), f"{name} mounts {source}, which does not exist"
                mounted += 1
        build = service.get("build")
        if build:
            assert (FLEET / build["context"] / build["dockerfile"]).is_file(), name
    assert mounted >= 9
    init = FLEET / "postgres" / "init-roles.sh"
    assert init.stat().st_mode & 0o111, "the postgres image runs an init script only if executable"
    assert "/gpu-sentinel/roles.sql" in init.read_text()


def test_the_fleet_is_three_named_nodes_a_hub_and_both_scrapers() -> None:
    services = compose()["services"]
    nodes = {n: s for n, s in services.items() if s.get("command", [None])[0] == "serve"}
    names = {s["environment"]["GPU_SENTINEL_NODE_NAME"] for s in nodes.values()}
    logins = {login(s["environment"]["DATABASE_URL"]) for s in nodes.values()}
    assert len(nodes) == 4 and len(names) == 4 and len(logins) == 4, "every node its own name and login"
    assert [n for n, s in nodes.items() if "--hub" in s["command"]] == ["hub"]
    for name, service in nodes.items():
        assert service["environment"]["GPU_SENTINEL_ADVERTISE_URL"] == f"http://{name}:5500/metrics"
        assert service["depends_on"]["grants"]["condition"] == "service_completed_successfully"
    for role in logins:
        assert re.search(rf"^CREATE ROLE {role} LOGIN ", ROLES_SQL.read_text(), re.M), role
    assert services["migrate"]["command"] == ["migrate"]
    assert "gpu_sentinel_owner" in services["migrate"]["environment"]["DATABASE_URL"]

    prometheus = yaml.safe_load((FLEET / "prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    assert job["http_sd_configs"][0]["url"] == "http://hub:5500/api/v1/fleet/targets"
    victoria = services["victoriametrics"]
    assert victoria["profiles"] == ["victoriametrics"]
    assert "-promscrape.config=/etc/prometheus/prometheus.yml" in victoria["command"]

    sources = yaml.safe_load((FLEET / "grafana" / "datasources.yaml").read_text())["datasources"]
    assert {s["url"] for s in sources} == {"http://prometheus:9090", "http://victoriametrics:8428"}
    provider = yaml.safe_load((FLEET / "grafana" / "dashboards.yaml").read_text())["providers"][0]
    dashboards = next(v for v in services["grafana"]["volumes"] if v.startswith("../grafana:"))
    assert dashboards.split(":")[1] == provider["options"]["path"]
    assert sorted(p.name for p in (FLEET / "../grafana").resolve().glob("*.json")) == [
        "dcgm-exporter-dashboard.json",
        "gpu-sentinel.json",
    ]


def test_prometheus_accepts_the_fleet_configuration() -> None:
    promtool = tool("promtool", "Debian package 'prometheus'")
    result = run(promtool, "check", "config", str(FLEET / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr


def statements(sql: str) -> list[str]:
    """SQL statements without comments, whitespace normalised."""
    text = re.sub(r"--[^\n]*", "", sql)
    return [" ".join(part.split()) for part in text.split(";") if part.strip()]


def test_the_readme_gives_the_same_grants_as_the_example() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```sql\n(-- fleet roles.*?)```", readme, re.S)
    assert match
    documented = statements(match.group(1))
    missing = [s for s in statements(GRANTS_SQL.read_text()) if s not in documented]
    assert missing == []


# -- the roles on the real PostgreSQL ----------------------------------------------------------------


def suffixed(sql: str) -> str:
    """The script with this run's role names, so tests running at once never share a role."""
    for role in ROLES:
        sql = re.sub(rf"\b{role}\b", f"{role}_{RUN_ID}", sql)
    return sql


def psql(url: str, script: Path, tmp_path: Path, **variables: str) -> None:
    psql_path = tool("psql", "Debian package 'postgresql-client'")
    copy = tmp_path / script.name
    copy.write_text(suffixed(script.read_text()))
    command = [psql_path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(copy)]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def url_for(database: str, role: str | None = None) -> str:
    """A URL, as DATABASE_URL takes it, for ``role``'s login (this run's) on ``database``; the test
    server's own user without a role."""
    server = conninfo_to_dict(PG_DSN)
    user = f"{role}_{RUN_ID}" if role else server.get("user", "postgres")
    return f"postgresql://{user}@{server.get('host', '127.0.0.1')}:{server.get('port', 5432)}/{database}"


@pytest.fixture
def fleet_database(tmp_path: Path) -> Iterator[str]:
    """A database made as the example makes it: roles.sql, ``gpu-sentinel migrate`` as the owner, then
    grants.sql as the owner."""
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"gs_fleet_{RUN_ID}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}".encode())
    try:
        psql(url_for(name), ROLES_SQL, tmp_path, owner_password="o", node_password="n", hub_password="h")
        owner = url_for(name, "gpu_sentinel_owner")
        assert main(["migrate", "--database", owner]) == 0
        psql(owner, GRANTS_SQL, tmp_path)
        yield name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
            for role in reversed(ROLES):
                admin.execute(f"DROP ROLE IF EXISTS {role}_{RUN_ID}".encode())


def start(tmp_path: Path, name: str, url: str, **values: Any) -> Service:
    settings = fleet_settings(tmp_path / name, node_name=name, database_url=url, **values)
    gpus = values.get("simulate_gpus", 0)
    service = Service(settings, gpu_source=SimulatedGPUs(gpus, seed=1, xid_mean_interval_s=1e12))
    service.start()
    return service


def denied(url: str, sql: str) -> bool:
    with psycopg.connect(url, autocommit=True) as connection:
        try:
            connection.execute(sql.encode())
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


def test_a_node_and_a_hub_run_on_their_roles_and_can_do_nothing_more(
    fleet_database: str, tmp_path: Path
) -> None:
    node_url, hub_url = url_for(fleet_database, "node_gpu01"), url_for(fleet_database, "hub01")
    node = start(tmp_path, "gpu01", node_url, simulate_gpus=2, alerts_enabled=True)
    hub = start(tmp_path, "hub01", hub_url, hub=True, enable_gpu_monitoring=False, alerts_enabled=True)
    try:
        assert hub.fleet.source is not None and hub.fleet.alerts is not None
        source, evaluator = hub.fleet.source, hub.fleet.alerts
        wait_until(lambda: {n.name for n in source.nodes.values()} == {"gpu01", "hub01"}, "both nodes live")
        wait_until(lambda: evaluator.leading, "the hub to take the fleet alerts' lock")
        assert node.alerts is not None
        rule = RuleSpec(id="busy", name="Busy", metric="host.cpu_pct", threshold=99)
        node.alerts.config.create_rule(rule)  # a node may change the shared alert configuration
        assert hub.alerts is not None
        wait_until(lambda: "busy" in {r.id for r in hub.alerts.config.rules()}, "the rule on the hub")
        with psycopg.connect(node_url) as connection:
            wait_until(
                lambda: connection.execute(b"SELECT count(*) FROM gpu_raw").fetchone()[0], "history rows"
            )
    finally:
        hub.stop()
        node.stop()

    for url in (node_url, hub_url):
        assert denied(url, "DROP TABLE gpu_raw")
        assert denied(url, "TRUNCATE alert_rules")
        assert denied(url, "ALTER TABLE nodes ADD COLUMN x INTEGER")
        assert denied(url, "CREATE TABLE intruder (x INTEGER)")
        assert denied(url, "DELETE FROM schema_version")
        assert denied(url, "UPDATE alerts_schema_version SET version = 0")
        assert denied(url, "ALTER TABLE node_live DISABLE ROW LEVEL SECURITY")
    with psycopg.connect(hub_url, autocommit=True) as connection:
        taken = connection.execute(b"UPDATE node_live SET name = 'taken' WHERE name = 'gpu01'")
        assert taken.rowcount == 0, "row-level security: the hub's login cannot touch another node's row"
        hub_group = f"gpu_sentinel_hub_{RUN_ID}"
        rights = connection.execute(
            b"SELECT has_table_privilege(%s, 'gpu_raw', 'SELECT'),"
            b" has_table_privilege(%s, 'gpu_raw', 'INSERT'),"
            b" has_table_privilege(%s, 'alert_outbox', 'INSERT')",
            (hub_group, hub_group, hub_group),
        ).fetchone()
        assert rights == (True, False, True), "the hub group reads history and records fleet alerts only"


def test_no_other_role_may_even_connect(fleet_database: str) -> None:
    stranger = f"stranger_{RUN_ID}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {stranger} LOGIN".encode())
    try:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(make_conninfo(url_for(fleet_database), user=stranger)).close()
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {stranger}".encode())


def test_a_node_role_facing_an_old_schema_is_told_to_have_the_owner_migrate(fleet_database: str) -> None:
    """A schema the owner has not migrated yet: the node waits, as for an outage, and says why."""
    with psycopg.connect(url_for(fleet_database), autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA later AUTHORIZATION gpu_sentinel_owner_{RUN_ID}".encode())
        connection.execute(f"GRANT USAGE ON SCHEMA later TO gpu_sentinel_node_{RUN_ID}".encode())
    database = PostgresDatabase(url_for(fleet_database, "node_gpu01") + "?options=-csearch_path%3Dlater")
    try:
        with pytest.raises(
            DatabaseUnavailableError, match="run `gpu-sentinel migrate` as the schema's owner"
        ):
            database.migrate()
    finally:
        database.close()
