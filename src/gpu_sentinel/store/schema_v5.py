"""History schema version 5: the node. Frozen: never edit this file; a change is a new version.

Adds ``nodes`` (a small integer key per node id) and a leading ``node`` column to every tier table, the
process usage tables and ``gpus``, so nodes sharing one database never collide on ``(gpu_id, ts)`` and a
node's range is one index range. GPUs are keyed by UUID per node; ``gpu_id`` stays the index the API
speaks. Rows already there get node key 1, an unclaimed ``nodes`` row the first node to start after the
upgrade takes for itself (see ``store.nodes``).

SQLite cannot change a primary key, so each table is rebuilt (create, copy, drop, rename); PostgreSQL
swaps the constraint in place. The column lists below are those of version 4 (version 2's metrics, the
process owners of version 3, the profiling columns and SM-seconds of version 4), written out once.
"""

from __future__ import annotations

_STATS = ("avg", "min", "max")
_GPU_V4 = (
    ("util_gpu", "REAL"),
    ("util_mem", "REAL"),
    ("mem_used", "BIGINT"),
    ("temp", "REAL"),
    ("mem_temp", "REAL"),
    ("power", "REAL"),
    ("fan", "REAL"),
    ("sm_clock", "REAL"),
    ("mem_clock", "REAL"),
    ("pcie_tx", "REAL"),
    ("pcie_rx", "REAL"),
    ("enc", "REAL"),
    ("dec", "REAL"),
    ("nvlink_tx", "REAL"),
    ("nvlink_rx", "REAL"),
    ("pcie_replay", "BIGINT"),
    ("mem_reserved", "BIGINT"),
    ("viol_power", "REAL"),
    ("viol_thermal", "REAL"),
    ("viol_sync_boost", "REAL"),
    ("viol_board_limit", "REAL"),
    ("viol_low_util", "REAL"),
    ("viol_reliability", "REAL"),
    ("prof_gr", "REAL"),
    ("prof_sm", "REAL"),
    ("prof_sm_occ", "REAL"),
    ("prof_tensor", "REAL"),
    ("prof_hmma", "REAL"),
    ("prof_imma", "REAL"),
    ("prof_dfma", "REAL"),
    ("prof_dram", "REAL"),
    ("prof_fp64", "REAL"),
    ("prof_fp32", "REAL"),
    ("prof_fp16", "REAL"),
)
_HOST_V4 = (
    ("cpu", "REAL"),
    ("ram_used", "BIGINT"),
    ("ram_pct", "REAL"),
    ("swap_pct", "REAL"),
    ("load1", "REAL"),
    ("net_tx", "REAL"),
    ("net_rx", "REAL"),
    ("disk_rd", "REAL"),
    ("disk_wr", "REAL"),
)
_PROCESS_V4 = (
    "ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL, name TEXT NOT NULL, user_name TEXT,"
    " seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION, energy_j DOUBLE PRECISION,"
    " util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL, mem_peak BIGINT, cpu_sum DOUBLE PRECISION,"
    " cpu_n INTEGER NOT NULL, host_mem_peak BIGINT, container_id TEXT, container_runtime TEXT, pod_uid TEXT,"
    " pod_namespace TEXT, pod_name TEXT, slurm_job_id TEXT, slurm_user TEXT, sm_seconds DOUBLE PRECISION"
)
_PROCESS_NAMES = (
    "ts, gpu_id, pid, name, user_name, seconds, busy_s, energy_j, util_sum, util_n, mem_peak, cpu_sum, cpu_n,"
    " host_mem_peak, container_id, container_runtime, pod_uid, pod_namespace, pod_name, slurm_job_id,"
    " slurm_user, sm_seconds"
)
_ROLLUPS = ("5s", "15s", "1m", "1h")

NODES = (
    "CREATE TABLE nodes (node INTEGER NOT NULL PRIMARY KEY, id TEXT UNIQUE, name TEXT, first_seen BIGINT,"
    " last_seen BIGINT)"
)
CLAIMABLE = "INSERT INTO nodes (node) VALUES (1)"


_GPU_KEY = ("ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL", "ts, gpu_id", "node, gpu_id, ts")
_HOST_KEY = ("ts BIGINT NOT NULL", "ts", "node, ts")


def _metric_columns(columns: tuple[tuple[str, str], ...], rollup: bool) -> tuple[tuple[str, str], ...]:
    if not rollup:
        return columns
    stats = tuple((f"{name}_{stat}", "DOUBLE PRECISION") for name, _ in columns for stat in _STATS)
    return (("n", "INTEGER NOT NULL"), *stats)


def _tier_tables() -> list[tuple[str, str, str, str]]:
    """``(table, column definitions, column names, new primary key)`` of every tier table."""
    tables = []
    for tier in ("raw", *_ROLLUPS):
        for scope, (key_defs, key_names, primary), columns in (
            ("gpu", _GPU_KEY, _GPU_V4),
            ("host", _HOST_KEY, _HOST_V4),
        ):
            metrics = _metric_columns(columns, rollup=tier != "raw")
            defs = ", ".join([key_defs, *(f"{name} {sql_type}" for name, sql_type in metrics)])
            names = ", ".join([key_names, *(name for name, _ in metrics)])
            tables.append((f"{scope}_{tier}", defs, names, primary))
    return tables


def _sqlite_rebuild(table: str, defs: str, names: str, primary: str, suffix: str) -> list[str]:
    return [
        f"CREATE TABLE {table}_v5 (node INTEGER NOT NULL, {defs}, PRIMARY KEY ({primary})){suffix}",
        f"INSERT INTO {table}_v5 (node, {names}) SELECT 1, {names} FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_v5 RENAME TO {table}",
    ]


def _postgresql_rekey(table: str, primary: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ADD COLUMN node INTEGER NOT NULL DEFAULT 1",
        f"ALTER TABLE {table} ALTER COLUMN node DROP DEFAULT",
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey",
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({primary})",
    ]


_PROCESS_KEY = "node, gpu_id, ts, pid, name"
_GPUS_DEFS = (
    "uuid TEXT NOT NULL, gpu_id SMALLINT NOT NULL, name TEXT, memory_total_bytes BIGINT,"
    " first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL"
)


def _sqlite() -> tuple[str, ...]:
    statements = [NODES, CLAIMABLE]
    for table, defs, names, primary in _tier_tables():
        statements += _sqlite_rebuild(table, defs, names, primary, " WITHOUT ROWID")
    for tier in ("1m", "1h"):
        statements += _sqlite_rebuild(
            f"process_{tier}", _PROCESS_V4, _PROCESS_NAMES, _PROCESS_KEY, " WITHOUT ROWID"
        )
        statements.append(f"CREATE INDEX process_{tier}_ts ON process_{tier} (node, ts)")
    statements += [
        f"CREATE TABLE gpus_v5 (node INTEGER NOT NULL, {_GPUS_DEFS}, PRIMARY KEY (node, uuid))",
        "INSERT INTO gpus_v5 (node, uuid, gpu_id, name, memory_total_bytes, first_seen, last_seen) "
        "SELECT 1, COALESCE(uuid, 'index:' || gpu_id), gpu_id, name, memory_total_bytes, first_seen, "
        "last_seen FROM gpus",
        "DROP TABLE gpus",
        "ALTER TABLE gpus_v5 RENAME TO gpus",
        "CREATE INDEX gpus_index ON gpus (node, gpu_id)",
    ]
    return tuple(statements)


def _postgresql() -> tuple[str, ...]:
    statements = [NODES, CLAIMABLE]
    for table, _, _, primary in _tier_tables():
        statements += _postgresql_rekey(table, primary)
    for tier in ("1m", "1h"):
        statements += _postgresql_rekey(f"process_{tier}", _PROCESS_KEY)
        statements += [
            f"DROP INDEX process_{tier}_ts",
            f"CREATE INDEX process_{tier}_ts ON process_{tier} (node, ts)",
        ]
    statements += [
        "UPDATE gpus SET uuid = 'index:' || gpu_id WHERE uuid IS NULL",
        "ALTER TABLE gpus ALTER COLUMN uuid SET NOT NULL",
        *_postgresql_rekey("gpus", "node, uuid"),
        "CREATE INDEX gpus_index ON gpus (node, gpu_id)",
    ]
    return tuple(statements)


SQLITE: tuple[str, ...] = _sqlite()
POSTGRESQL: tuple[str, ...] = _postgresql()
