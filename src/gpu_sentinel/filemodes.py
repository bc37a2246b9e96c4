"""The service's files hold secrets (password hashes, the token key, channel passwords in the history
database and its WAL, samples in the spill file), so its directories are 0700 and its files 0600: new ones
through the umask set at start, existing ones tightened at start with a warning each."""

from __future__ import annotations

import glob
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from gpu_sentinel.config import Settings

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def restrict_new_files() -> None:
    """Whatever the service (or a library under it) creates from now on is its user's alone."""
    os.umask(PRIVATE_UMASK)


def tighten_private_files(settings: Settings, log_file: Path | None) -> None:
    """Make the service's directories 0700 and its files 0600, logging one warning per path changed.

    The data directory and the default state and log directories are the service's own, so every file in
    them is tightened. A log file or SQLite file placed elsewhere is tightened with its rotations or side
    files, never the directory the operator chose for it."""
    try:
        settings.data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        log.warning("cannot create the data directory %s: %s", settings.data_dir, error)
    own_dirs = [settings.data_dir]
    files: list[Path] = []
    if log_file is not None:
        if log_file == settings.default_log_file:
            own_dirs += [log_file.parent.parent, log_file.parent]
        files += [log_file, *log_file.parent.glob(f"{glob.escape(log_file.name)}.*")]  # and its rotations
    database = sqlite_path(settings)
    if database is not None:
        files += [database, *(database.with_name(database.name + suffix) for suffix in SQLITE_SIDE_FILES)]
    for directory in own_dirs:
        if _is_own_dir(directory):
            _tighten(directory, PRIVATE_DIR_MODE)
            files += _files_in(directory)
    for path in dict.fromkeys(files):
        _tighten(path, PRIVATE_FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 (and its directory 0700) unless it exists, whatever the umask, so
    that a library opening it later never makes it readable by others."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))


def open_private_append(path: Path) -> int:
    """A descriptor appending to ``path``, which is created 0600 if it is new."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)


def sqlite_path(settings: Settings) -> Path | None:
    url = settings.database_url
    if not url:
        return settings.data_dir / "history.sqlite3"
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def _is_own_dir(path: Path) -> bool:
    """A directory the service may lock down: not a shared one such as /tmp (sticky) or a symlink."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(mode):
        return False
    if mode & stat.S_ISVTX:
        log.warning("%s is a shared directory; leaving its mode as it is", path)
        return False
    return True


def _files_in(directory: Path) -> Iterator[Path]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def _tighten(path: Path, mode: int) -> None:
    """Remove every permission beyond ``mode``; a file that is not there, or not a plain file or
    directory of ours, is left alone."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    old = stat.S_IMODE(info.st_mode)
    new = old & mode
    if new == old:
        return
    try:
        path.chmod(new)
    except OSError as error:
        log.warning("%s is readable by other users (mode %04o) and cannot be changed: %s", path, old, error)
        return
    log.warning("%s was open to other users (mode %04o); its mode is now %04o", path, old, new)
