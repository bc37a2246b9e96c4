"""``gpu-sentinel export`` writes the same records as the API, from whichever database is configured."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from gpu_sentinel.cli import main
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from gpu_sentinel.store import HistoryStore
from tests.api.conftest import make_client
from tests.cli_helpers import one_line_error, run_cli
from tests.store.helpers import feed, gpu


@pytest.fixture
def filled(tmp_path: Path) -> int:
    start = (int(time.time()) // 60 - 10) * 60
    store = HistoryStore.from_settings(Settings(data_dir=tmp_path))
    store.start()
    feed(store, start, 60, lambda ts: [gpu(0, util=25.0), gpu(1, util=75.0)], per_second=1)
    store.close()
    return start


def test_export_writes_csv_to_a_file(tmp_path: Path, filled: int) -> None:
    output = tmp_path / "out.csv"
    argv = ["export", "--data-dir", str(tmp_path), "--metric", "gpu_utilization", "--gpu", "1"]
    argv += ["--start", str(filled), "--end", str(filled + 60), "--bucket", "15", "-o", str(output)]
    assert main(argv) == 0
    rows = list(csv.DictReader(output.open()))
    assert [(row["gpu_id"], row["avg"]) for row in rows] == [("1", "75.0")] * 4


def test_export_refuses_an_unknown_metric(
    tmp_path: Path, filled: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--data-dir", str(tmp_path), "--metric", "nope", "--range", "1h"]) == 2
    assert "Unknown metric 'nope'" in capsys.readouterr().err


def test_export_before_any_history_says_so_and_creates_nothing(tmp_path: Path) -> None:
    line = one_line_error(run_cli(["export", "--data-dir", "data", "--range", "1h"], tmp_path))
    assert line.startswith("gpu-sentinel export: no history yet in data/history.sqlite3;")
    assert line.endswith("`gpu-sentinel serve` records it")
    database = tmp_path / "elsewhere" / "h.sqlite3"
    line = one_line_error(run_cli(["export", "--database", f"sqlite:///{database}"], tmp_path))
    assert line.startswith(f"gpu-sentinel export: no history yet in {database}")
    assert sorted(tmp_path.iterdir()) == []


def test_export_refuses_a_bucket_finer_than_the_history_kept(tmp_path: Path, filled: int) -> None:
    """Thirty days back only 1-minute rows remain: a 1 s bucket is refused, as the API refuses it."""
    result = run_cli(["export", "--data-dir", str(tmp_path), "--range", "30d", "--bucket", "1"], tmp_path)
    line = one_line_error(result)
    assert line.startswith("gpu-sentinel export: A 1 s bucket is not kept for this range")
    assert "multiple of 60 s" in line
    assert result.stdout == ""
    settings = Settings(data_dir=tmp_path, history_cache_ttl=0)
    with make_client(settings, Service(settings, gpu_source=SimulatedGPUs(1, seed=1))) as client:
        response = client.get("/api/v1/history/export", params={"range": "30d", "bucket": 1})
        assert response.status_code == 422
        assert response.json()["error"] == "unavailable_bucket"
        assert client.get("/api/v1/history/export", params={"range": "30d", "bucket": 120}).status_code == 200
