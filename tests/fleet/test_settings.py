"""Fleet settings through the real command: a mistake is one line naming the variable and what is
allowed, with exit status 2."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import one_line_error, run_cli

SERVE = ["serve", "--hub", "--simulate", "1", "--log-file", "", "--data-dir", "d"]


def test_fleet_bounds_out_of_order_are_refused_with_what_is_allowed(tmp_path: Path) -> None:
    env = {"GPU_SENTINEL_FLEET_ONLINE_WITHIN_S": "40", "GPU_SENTINEL_FLEET_OFFLINE_AFTER_S": "30"}
    line = one_line_error(run_cli(SERVE, tmp_path, env))
    assert "GPU_SENTINEL_FLEET_ONLINE_WITHIN_S < GPU_SENTINEL_FLEET_OFFLINE_AFTER_S" in line
    assert "40" in line and "30" in line


def test_an_advertised_url_that_is_not_http_names_the_variable(tmp_path: Path) -> None:
    line = one_line_error(run_cli(SERVE, tmp_path, {"GPU_SENTINEL_ADVERTISE_URL": "gpu01:5500"}))
    assert line.startswith("gpu-sentinel: invalid setting GPU_SENTINEL_ADVERTISE_URL:")
    assert "gpu01:5500" in line
