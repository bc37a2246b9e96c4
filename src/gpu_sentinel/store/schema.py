"""The history schema as frozen migrations, and the table layout the store's SQL relies on.

Time is integer epoch seconds. Each tier has one wide row per GPU per bucket (and one per host), keyed
``(node, gpu_id, ts)`` (version 5 added the node) so a chart's range is one index range per GPU, clustered
in SQLite (WITHOUT ROWID); ``node`` is the small integer key of ``nodes``.
Rollup rows keep ``n`` (seconds covered) and avg/min/max of every metric so coarser tiers and usage
figures can be derived exactly. Process usage is kept per minute and per hour, not per second.

Each version below is written once and never changed; a new column is a new version. The registry's
history columns must equal what the newest version creates (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_sentinel.store import live, schema_v1, schema_v5
from gpu_sentinel.store.migrations import DialectName, Migration, MigrationSet

ROLLUP_TIER_NAMES = ("5s", "15s", "1m", "1h")
PROCESS_TIER_NAMES = ("1m", "1h")
PROCESS_OWNER_COLUMNS = (
    "container_id",
    "container_runtime",
    "pod_uid",
    "pod_namespace",
    "pod_name",
    "slurm_job_id",
    "slurm_user",
)
"""Who owned a process (version 3): descriptive like ``user_name``, kept with MAX() when rolled up."""
PROCESS_COLUMNS = (
    "user_name",
    "seconds",
    "busy_s",
    "energy_j",
    "util_sum",
    "util_n",
    "mem_peak",
    "cpu_sum",
    "cpu_n",
    "host_mem_peak",
    *PROCESS_OWNER_COLUMNS,
    "sm_seconds",
)
PROCESS_KEY = ("node", "ts", "gpu_id", "pid", "name")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the backends."""

    name: DialectName


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")

# Version 2: NVLink throughput, PCIe replays, reserved framebuffer and the six clock-violation timers.
# Levels (throughput) are REAL like every rate before them. The replay counter and reserved memory are
# whole numbers, so BIGINT. The violation timers are cumulative seconds with a fractional part, so REAL.
# Cumulative counters are stored as the last value of each second (see metrics.model.History) and roll
# up into the same avg/min/max columns as everything else: a bucket's min and max are the counter's
# values at its edges, so the increase over any bucket is max - min, with no second code path.
_V2_GPU_COLUMNS = (
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
)


def _v2_statements() -> tuple[str, ...]:
    raw = [f"ALTER TABLE gpu_raw ADD COLUMN {column} {sql_type}" for column, sql_type in _V2_GPU_COLUMNS]
    rollups = [
        f"ALTER TABLE gpu_{tier} ADD COLUMN {column}_{stat} DOUBLE PRECISION"
        for tier in ROLLUP_TIER_NAMES
        for column, _ in _V2_GPU_COLUMNS
        for stat in ("avg", "min", "max")
    ]
    return (*raw, *rollups)


# Version 3: who owned each process (container, Kubernetes pod, SLURM job), so usage groups by them.
# Plain nullable TEXT columns on both process tiers; existing rows keep NULL (owner unknown). Written
# as literal DDL, not from PROCESS_OWNER_COLUMNS, so it never changes with that list.
_V3_STATEMENTS = tuple(
    f"ALTER TABLE {table} ADD COLUMN {column} TEXT"
    for table in ("process_1m", "process_1h")
    for column in (
        "container_id",
        "container_runtime",
        "pod_uid",
        "pod_namespace",
        "pod_name",
        "slurm_job_id",
        "slurm_user",
    )
)
# Version 4: GPM profiling activity (percent, REAL like every level) on the GPU tables, and SM-seconds
# per process (the integral of the process's SM share, in seconds of a whole GPU) on the process tables.
_V4_GPU_COLUMNS = (
    "prof_gr",
    "prof_sm",
    "prof_sm_occ",
    "prof_tensor",
    "prof_hmma",
    "prof_imma",
    "prof_dfma",
    "prof_dram",
    "prof_fp64",
    "prof_fp32",
    "prof_fp16",
)
_V4_ROLLUP_TIERS = ("5s", "15s", "1m", "1h")


def _v4_statements() -> tuple[str, ...]:
    raw = [f"ALTER TABLE gpu_raw ADD COLUMN {column} REAL" for column in _V4_GPU_COLUMNS]
    rollups = [
        f"ALTER TABLE gpu_{tier} ADD COLUMN {column}_{stat} DOUBLE PRECISION"
        for tier in _V4_ROLLUP_TIERS
        for column in _V4_GPU_COLUMNS
        for stat in ("avg", "min", "max")
    ]
    processes = [
        f"ALTER TABLE process_{tier} ADD COLUMN sm_seconds DOUBLE PRECISION" for tier in ("1m", "1h")
    ]
    return (*raw, *rollups, *processes)


# Version 7: a revision per node, bumped by its writer whenever it writes into buckets that had settled
# (see ``store.settled``), so a reader may keep settled buckets of an answer until the revision moves.
_V7_STATEMENTS = ("ALTER TABLE nodes ADD COLUMN history_revision BIGINT NOT NULL DEFAULT 0",)

# Version 8: sealed blocks of settled chart series (see ``store.blocks``), one compressed blob per node,
# tier, owner (a GPU's index, -1 for the host) and block start. SQLite keeps the blobs in a rowid table
# (a WITHOUT ROWID table is for small rows) with the key as its index.
_V8_SQLITE = (
    "CREATE TABLE trend_blocks (node INTEGER NOT NULL, tier TEXT NOT NULL, owner INTEGER NOT NULL, "
    "start BIGINT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (node, tier, owner, start))",
)
_V8_POSTGRESQL = (
    "CREATE TABLE trend_blocks (node INTEGER NOT NULL, tier TEXT NOT NULL, owner SMALLINT NOT NULL, "
    "start BIGINT NOT NULL, payload BYTEA NOT NULL, PRIMARY KEY (node, tier, owner, start))",
)

HISTORY = MigrationSet(
    "schema_version",
    (
        Migration(1, schema_v1.SQLITE, schema_v1.POSTGRESQL),
        Migration.portable(2, _v2_statements()),
        Migration.portable(3, _V3_STATEMENTS),
        Migration.portable(4, _v4_statements()),
        Migration(5, schema_v5.SQLITE, schema_v5.POSTGRESQL),
        Migration(6, live.SQLITE_DDL, live.POSTGRESQL_DDL),
        Migration.portable(7, _V7_STATEMENTS),
        Migration(8, _V8_SQLITE, _V8_POSTGRESQL),
    ),
)
