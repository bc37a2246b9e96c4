"""History schema version 1, exactly as the first release created it. Frozen: never edit this file;
a change to the schema is a new version in ``schema.py``."""

from __future__ import annotations

SQLITE: tuple[str, ...] = (
    (
        "CREATE TABLE gpus (gpu_id SMALLINT NOT NULL PRIMARY KEY, uuid TEXT, name TEXT,"
        " memory_total_bytes BIGINT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)"
    ),
    (
        "CREATE TABLE gpu_raw (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, util_gpu REAL,"
        " util_mem REAL, mem_used BIGINT, temp REAL, mem_temp REAL, power REAL, fan REAL,"
        " sm_clock REAL, mem_clock REAL, pcie_tx REAL, pcie_rx REAL, enc REAL, dec REAL,"
        " PRIMARY KEY (gpu_id, ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE host_raw (ts BIGINT NOT NULL PRIMARY KEY, cpu REAL, ram_used BIGINT,"
        " ram_pct REAL, swap_pct REAL, load1 REAL, net_tx REAL, net_rx REAL, disk_rd REAL,"
        " disk_wr REAL) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE gpu_5s (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE host_5s (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE gpu_15s (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE host_15s (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE gpu_1m (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE host_1m (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE gpu_1h (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE host_1h (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE process_1m (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL,"
        " name TEXT NOT NULL, user_name TEXT, seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION,"
        " energy_j DOUBLE PRECISION, util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL,"
        " mem_peak BIGINT, cpu_sum DOUBLE PRECISION, cpu_n INTEGER NOT NULL, host_mem_peak BIGINT,"
        " PRIMARY KEY (gpu_id, ts, pid, name)) WITHOUT ROWID"
    ),
    "CREATE INDEX process_1m_ts ON process_1m (ts)",
    (
        "CREATE TABLE process_1h (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL,"
        " name TEXT NOT NULL, user_name TEXT, seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION,"
        " energy_j DOUBLE PRECISION, util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL,"
        " mem_peak BIGINT, cpu_sum DOUBLE PRECISION, cpu_n INTEGER NOT NULL, host_mem_peak BIGINT,"
        " PRIMARY KEY (gpu_id, ts, pid, name)) WITHOUT ROWID"
    ),
    "CREATE INDEX process_1h_ts ON process_1h (ts)",
)

POSTGRESQL: tuple[str, ...] = (
    (
        "CREATE TABLE gpus (gpu_id SMALLINT NOT NULL PRIMARY KEY, uuid TEXT, name TEXT,"
        " memory_total_bytes BIGINT, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL)"
    ),
    (
        "CREATE TABLE gpu_raw (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, util_gpu REAL,"
        " util_mem REAL, mem_used BIGINT, temp REAL, mem_temp REAL, power REAL, fan REAL,"
        " sm_clock REAL, mem_clock REAL, pcie_tx REAL, pcie_rx REAL, enc REAL, dec REAL,"
        " PRIMARY KEY (gpu_id, ts))"
    ),
    (
        "CREATE TABLE host_raw (ts BIGINT NOT NULL PRIMARY KEY, cpu REAL, ram_used BIGINT,"
        " ram_pct REAL, swap_pct REAL, load1 REAL, net_tx REAL, net_rx REAL, disk_rd REAL,"
        " disk_wr REAL)"
    ),
    (
        "CREATE TABLE gpu_5s (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts))"
    ),
    (
        "CREATE TABLE host_5s (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts))"
    ),
    (
        "CREATE TABLE gpu_15s (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts))"
    ),
    (
        "CREATE TABLE host_15s (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts))"
    ),
    (
        "CREATE TABLE gpu_1m (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts))"
    ),
    (
        "CREATE TABLE host_1m (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts))"
    ),
    (
        "CREATE TABLE gpu_1h (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, n INTEGER NOT NULL,"
        " util_gpu_avg DOUBLE PRECISION, util_gpu_min DOUBLE PRECISION, util_gpu_max DOUBLE PRECISION,"
        " util_mem_avg DOUBLE PRECISION, util_mem_min DOUBLE PRECISION, util_mem_max DOUBLE PRECISION,"
        " mem_used_avg DOUBLE PRECISION, mem_used_min DOUBLE PRECISION, mem_used_max DOUBLE PRECISION,"
        " temp_avg DOUBLE PRECISION, temp_min DOUBLE PRECISION, temp_max DOUBLE PRECISION,"
        " mem_temp_avg DOUBLE PRECISION, mem_temp_min DOUBLE PRECISION, mem_temp_max DOUBLE PRECISION,"
        " power_avg DOUBLE PRECISION, power_min DOUBLE PRECISION, power_max DOUBLE PRECISION,"
        " fan_avg DOUBLE PRECISION, fan_min DOUBLE PRECISION, fan_max DOUBLE PRECISION,"
        " sm_clock_avg DOUBLE PRECISION, sm_clock_min DOUBLE PRECISION, sm_clock_max DOUBLE PRECISION,"
        " mem_clock_avg DOUBLE PRECISION, mem_clock_min DOUBLE PRECISION,"
        " mem_clock_max DOUBLE PRECISION, pcie_tx_avg DOUBLE PRECISION, pcie_tx_min DOUBLE PRECISION,"
        " pcie_tx_max DOUBLE PRECISION, pcie_rx_avg DOUBLE PRECISION, pcie_rx_min DOUBLE PRECISION,"
        " pcie_rx_max DOUBLE PRECISION, enc_avg DOUBLE PRECISION, enc_min DOUBLE PRECISION,"
        " enc_max DOUBLE PRECISION, dec_avg DOUBLE PRECISION, dec_min DOUBLE PRECISION,"
        " dec_max DOUBLE PRECISION, PRIMARY KEY (gpu_id, ts))"
    ),
    (
        "CREATE TABLE host_1h (ts BIGINT NOT NULL, n INTEGER NOT NULL, cpu_avg DOUBLE PRECISION,"
        " cpu_min DOUBLE PRECISION, cpu_max DOUBLE PRECISION, ram_used_avg DOUBLE PRECISION,"
        " ram_used_min DOUBLE PRECISION, ram_used_max DOUBLE PRECISION, ram_pct_avg DOUBLE PRECISION,"
        " ram_pct_min DOUBLE PRECISION, ram_pct_max DOUBLE PRECISION, swap_pct_avg DOUBLE PRECISION,"
        " swap_pct_min DOUBLE PRECISION, swap_pct_max DOUBLE PRECISION, load1_avg DOUBLE PRECISION,"
        " load1_min DOUBLE PRECISION, load1_max DOUBLE PRECISION, net_tx_avg DOUBLE PRECISION,"
        " net_tx_min DOUBLE PRECISION, net_tx_max DOUBLE PRECISION, net_rx_avg DOUBLE PRECISION,"
        " net_rx_min DOUBLE PRECISION, net_rx_max DOUBLE PRECISION, disk_rd_avg DOUBLE PRECISION,"
        " disk_rd_min DOUBLE PRECISION, disk_rd_max DOUBLE PRECISION, disk_wr_avg DOUBLE PRECISION,"
        " disk_wr_min DOUBLE PRECISION, disk_wr_max DOUBLE PRECISION, PRIMARY KEY (ts))"
    ),
    (
        "CREATE TABLE process_1m (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL,"
        " name TEXT NOT NULL, user_name TEXT, seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION,"
        " energy_j DOUBLE PRECISION, util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL,"
        " mem_peak BIGINT, cpu_sum DOUBLE PRECISION, cpu_n INTEGER NOT NULL, host_mem_peak BIGINT,"
        " PRIMARY KEY (gpu_id, ts, pid, name))"
    ),
    "CREATE INDEX process_1m_ts ON process_1m (ts)",
    (
        "CREATE TABLE process_1h (ts BIGINT NOT NULL, gpu_id SMALLINT NOT NULL, pid INTEGER NOT NULL,"
        " name TEXT NOT NULL, user_name TEXT, seconds INTEGER NOT NULL, busy_s DOUBLE PRECISION,"
        " energy_j DOUBLE PRECISION, util_sum DOUBLE PRECISION, util_n INTEGER NOT NULL,"
        " mem_peak BIGINT, cpu_sum DOUBLE PRECISION, cpu_n INTEGER NOT NULL, host_mem_peak BIGINT,"
        " PRIMARY KEY (gpu_id, ts, pid, name))"
    ),
    "CREATE INDEX process_1h_ts ON process_1h (ts)",
)
