"""``gpu-sentinel export`` writes the same records as the API, from whichever database is configured."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from gpu_sentinel.cli import main
from gpu_sentinel.config import Settings
from gpu_sentinel.store import HistoryStore
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
