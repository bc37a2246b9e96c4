"""Settings: the spec's variable names work, flags win over the environment, bad values are explained."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import pytest
from pydantic import ValidationError

from gpu_sentinel.cli import main
from gpu_sentinel.config import Settings, describe_validation_error
from gpu_sentinel.logs import LOG_BACKUPS, MAX_LOG_BYTES, setup_logging


def test_defaults_follow_the_spec() -> None:
    settings = Settings()
    assert settings.port == 5500 and settings.host == "127.0.0.1"
    assert settings.gpu_poll_interval == 0.25
    assert settings.enable_gpu_monitoring is True
    assert settings.metrics_retention_days == 30


def test_spec_environment_names_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLE_GPU_MONITORING", "false")
    monkeypatch.setenv("GPU_POLL_INTERVAL", "1")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("METRICS_RETENTION_DAYS", "7")
    monkeypatch.setenv("GPU_SENTINEL_PORT", "6000")
    settings = Settings()
    assert settings.enable_gpu_monitoring is False
    assert settings.gpu_poll_interval == 1.0
    assert settings.log_level == "warning"
    assert settings.metrics_retention_days == 7
    assert settings.port == 6000


def test_explicit_values_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_POLL_INTERVAL", "1")
    assert Settings(gpu_poll_interval=0.5).gpu_poll_interval == 0.5


def test_slow_interval_is_never_faster_than_the_fast_one() -> None:
    assert Settings(gpu_poll_interval=5).slow_poll_interval == 5
    with pytest.raises(ValidationError) as error:
        Settings(gpu_poll_interval=5, slow_poll_interval=1)
    assert "GPU_SLOW_POLL_INTERVAL" in describe_validation_error(error.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GPU_POLL_INTERVAL", "0.001", "GPU_POLL_INTERVAL: Input should be greater than or equal to 0.05"),
        ("GPU_POLL_INTERVAL", "fast", "GPU_POLL_INTERVAL: Input should be a valid number"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: Input should be 'debug', 'info', 'warning', 'error' or 'critical'"),
        ("GPU_SENTINEL_PORT", "70000", "GPU_SENTINEL_PORT: Input should be less than or equal to 65535"),
        ("ENABLE_GPU_MONITORING", "perhaps", "ENABLE_GPU_MONITORING: Input should be a valid boolean"),
    ],
)
def test_invalid_values_stop_start_up_with_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve"]) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1
    assert f"invalid setting {expected}" in message
    assert repr(value) in message or value in message


def test_invalid_flag_is_reported_by_its_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--simulate", "-1"]) == 2
    assert "invalid setting --simulate: Input should be greater than or equal to 0" in capsys.readouterr().err


def test_log_file_rotates_at_10_mb_keeping_5(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "gpu_service.log"
    try:
        assert setup_logging("info", log_file) == log_file
        logging.getLogger("gpu_sentinel.test").info("hello from the test")
        handlers = [
            h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)
        ]
        assert len(handlers) == 1
        assert handlers[0].maxBytes == MAX_LOG_BYTES == 10 * 1024 * 1024
        assert handlers[0].backupCount == LOG_BACKUPS == 5
        handlers[0].flush()
        assert "hello from the test" in log_file.read_text()
    finally:
        setup_logging("warning", None)


def test_unwritable_log_file_falls_back_to_console(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    try:
        assert setup_logging("info", blocker / "sub" / "x.log") is None
    finally:
        setup_logging("warning", None)
