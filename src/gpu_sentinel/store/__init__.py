"""History: a durable time-series store of every snapshot, with rollup tiers, retention, trends, usage
and export, on SQLite by default or PostgreSQL."""

from __future__ import annotations

from gpu_sentinel.store.query import RANGE_PRESETS_S, TrendQuery, TrendResult
from gpu_sentinel.store.store import HistoryStore, StoreStatus, open_database

__all__ = ["RANGE_PRESETS_S", "HistoryStore", "StoreStatus", "TrendQuery", "TrendResult", "open_database"]
