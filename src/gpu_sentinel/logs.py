"""Logging as spec 000 asks: console plus a rotating file (10 MB x 5), readable by the service's user only.

Every handler formats through ``SafeFormatter``, so no record from any logger (ours, uvicorn's, httpx's)
can carry a credential into the log or forge a line of its own with a value that came from outside.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import re
import sys
from collections.abc import Callable
from pathlib import Path

from gpu_sentinel.filemodes import PRIVATE_DIR_MODE, open_private_append

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5
REDACTED = "***"
CONTINUATION = "  | "
"""Starts every traceback line, so that only a record's own first line begins with a timestamp."""

_KEY = r"[\w.-]*?(?:token|passwd|password|secret|api[_-]?key|credentials?)(?!_type\b)\w*"
_REDACTIONS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # scheme://user:password@host and scheme://token@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/?#@:\"'<>]+:)[^\s/?#@\"'<>]*@", re.I), r"\1***@"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^\s/?#@:\"'<>]+@", re.I), r"\1***@"),
    # Authorization: Bearer x, "authorization": "Basic x", X-Api-Key: x, Cookie: x
    (
        re.compile(
            r"\b((?:proxy-)?authorization|x-api-key|api-key|cookie|set-cookie)([\"']?\s*[:=]\s*[\"']?)"
            r"(?:(bearer|basic|token|digest)\s+)?[^\s\"',;}\]]+",
            re.I,
        ),
        lambda match: f"{match[1]}{match[2]}{match[3] + ' ' if match[3] else ''}{REDACTED}",
    ),
    # bearer <token>, and the WebSocket subprotocol pair "bearer, <token>"
    (re.compile(r"\b(bearer[\s,]+)(?!\*\*\*)[\w.~+/-]{16,}=*", re.I), r"\1***"),
    # token=x, access_token=x, password=x, client_secret=x (query strings, forms, key=value text)
    (re.compile(rf"\b({_KEY})(\s*=\s*[\"']?)[^\s\"'&,;)}}\]]+", re.I), r"\1\2***"),
    # "password": "x" and 'refresh_token': 'x' (JSON bodies, Python reprs)
    (re.compile(rf"([\"'])({_KEY})\1(\s*:\s*)([\"'])(?:\\.|(?!\4).)*\4", re.I), r"\1\2\1\3\4***\4"),
    # webhook URLs whose path is the credential
    (re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'?#<>]+", re.I), r"\1***"),
    (re.compile(r"(discord(?:app)?\.com/api/webhooks/)[^\s\"'?#<>]+", re.I), r"\1***"),
)


def _escape_table() -> dict[int, str]:
    """C0 (except TAB), DEL, C1 and the Unicode line separators, each written as a visible escape."""
    named = {"\n": "\\n", "\r": "\\r"}
    codes = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
    table = {
        code: named.get(chr(code), f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in codes
    }
    del table[ord("\t")]
    return table


_ESCAPES = _escape_table()


_HINTS = re.compile(
    r"token|passw|secret|api.?key|credential|authorization|bearer|cookie|@|hooks\.slack|discord", re.I
)
"""Something every pattern needs: most records have none of it and skip the patterns."""


def redact(text: str) -> str:
    """``text`` with every credential it appears to carry replaced by ``***``."""
    if not _HINTS.search(text):
        return text
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def escape_controls(text: str) -> str:
    """``text`` on one line: no value can start a log line of its own or steer a terminal."""
    return text.translate(_ESCAPES)


class SafeFormatter(logging.Formatter):
    """Redacts and escapes the whole record; traceback lines keep their breaks but are indented."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        lines = [escape_controls(redact(self.formatMessage(record)))]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        blocks = (record.exc_text, self.formatStack(record.stack_info) if record.stack_info else None)
        for block in blocks:
            if block:
                lines += [CONTINUATION + escape_controls(redact(line)) for line in block.splitlines()]
        return "\n".join(lines)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates the log (and, on rotation, its successor) 0600 whatever the umask. While the file cannot
    be written (a full disk) it says so once on stderr instead of a traceback for every record."""

    _failing = False
    _failed_now = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if self._failing and not self._failed_now:
            self._failing = False
            sys.stderr.write(f"gpu-sentinel: writing the log file {self.baseFilename} again\n")

    def handleError(self, record: logging.LogRecord | None) -> None:
        self._trouble(sys.exc_info()[1])

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as error:
            self._trouble(error)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # what a full disk would not take is lost, not raised
            super().close()

    def _trouble(self, error: BaseException | None) -> None:
        self._failed_now = True
        if not self._failing:
            self._failing = True
            reason = escape_controls(str(error))
            sys.stderr.write(f"gpu-sentinel: cannot write the log file {self.baseFilename}: {reason}\n")

    def _open(self) -> io.TextIOWrapper:
        fd = open_private_append(Path(self.baseFilename))
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(level: str, log_file: Path | None) -> Path | None:
    """Configure the root logger; returns the file actually logged to (None if it could not be opened).

    Other libraries' loggers (uvicorn's included: ``cli.serve`` passes it no logging config) propagate to
    the root, so its handlers, and their formatter, see every record."""
    formatter = SafeFormatter(LOG_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    opened: Path | None = None
    problem: str | None = None
    if log_file is not None:
        try:
            log_file.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            handlers.append(
                PrivateRotatingFileHandler(
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
