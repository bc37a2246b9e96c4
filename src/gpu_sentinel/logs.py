"""Logging as spec 000 asks: console plus a rotating file (10 MB x 5)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5


def setup_logging(level: str, log_file: Path | None) -> Path | None:
    """Configure the root logger; returns the file actually logged to (None if it could not be opened)."""
    formatter = logging.Formatter(LOG_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    opened: Path | None = None
    problem: str | None = None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(
                logging.handlers.RotatingFileHandler(
                    log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
                )
            )
            opened = log_file
        except OSError as exc:
            problem = f"cannot write log file {log_file}: {exc}; logging to the console only"
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level.upper())
    if problem:
        logging.getLogger(__name__).warning(problem)
    return opened
