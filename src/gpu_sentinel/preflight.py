"""Start-up checks of settings that validate but may still be unusable on this machine (a data directory
that cannot be written, an alerts file that does not parse), so the CLI refuses with one line naming the
setting before the service starts, instead of failing inside it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from gpu_sentinel.config import SettingError, Settings


def check_data_dir(path: Path, *, create: bool = True) -> None:
    """The directory exists (created if need be) and this user can create files in it; with ``create``
    false, only that it is not something else (a command that only reads makes nothing)."""
    if path.exists() and not path.is_dir():
        raise SettingError("data_dir", f"{path} is a file; the data directory must be a directory")
    if not create:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise SettingError(
            "data_dir", f"{path} cannot be used ({reason}); it must be a directory this user can write"
        ) from None


def check_alert_rules_file(path: Path | None) -> None:
    """Parsed and validated as the alerts manager will at start-up (which reports the same errors)."""
    if path is None:
        return
    from gpu_sentinel.alerts.loader import AlertsFileError, load_alerts_file

    if not path.is_file():
        raise SettingError("alert_rules_file", f"{path} does not exist or is not a file")
    try:
        load_alerts_file(path)
    except AlertsFileError as error:
        raise SettingError("alert_rules_file", str(error)) from None


def check_serve(settings: Settings) -> None:
    check_data_dir(settings.data_dir)
    if settings.alerts_enabled:
        check_alert_rules_file(settings.alert_rules_file)
