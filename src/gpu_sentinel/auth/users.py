"""Users and their roles, kept in ``users.json`` in the data directory with Argon2 password hashes.

The CLI and the running service share the file: the service notices when it changes (checked at most
once a second), so ``gpu-sentinel user remove`` takes effect without a restart.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gpu_sentinel.auth.errors import (
    InvalidTokenError,
    InvalidUserError,
    LastAdminError,
    UnknownUserError,
    UserExistsError,
)
from gpu_sentinel.auth.files import tighten_mode, write_private
from gpu_sentinel.auth.sessions import RefreshFamily, RefreshUse, with_family

log = logging.getLogger(__name__)

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
RELOAD_CHECK_S = 1.0

_USERNAME = re.compile(USERNAME_PATTERN)


def default_hasher() -> PasswordHash:
    """Argon2id with RFC 9106's second recommended parameters (64 MiB, 3 passes)."""
    return PasswordHash((Argon2Hasher(),))


@dataclass(frozen=True, slots=True)
class User:
    """One user. ``user_id`` is never reused, so a re-created name does not inherit old tokens, and
    ``token_generation`` rises with every password or role change, which voids every token issued before."""

    username: str
    role: Role
    password_hash: str
    created_at: float
    user_id: str
    token_generation: int = 0
    refresh_families: dict[str, RefreshFamily] = field(default_factory=dict)


def new_user_id() -> str:
    return secrets.token_urlsafe(12)


def _user_of(record: dict[str, Any]) -> User:
    families = {name: RefreshFamily(**f) for name, f in record.get("refresh_families", {}).items()}
    return User(**{**record, "refresh_families": families})


def validate_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise InvalidUserError(
            f"Invalid user name {username!r}: 1-64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    return username


def validate_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidUserError(
            f"Passwords must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return password


def validate_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidUserError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}")


class UserStore:
    """The users file, cached in memory; every change rewrites it atomically with mode 0600."""

    def __init__(
        self,
        path: Path,
        *,
        hasher: PasswordHash | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.hasher = hasher or default_hasher()
        self._monotonic = monotonic
        self._users: dict[str, User] = {}
        self._stamp: tuple[int, int] | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._dummy_hash: str | None = None
        self.load()

    def load(self) -> None:
        with self._lock:
            self._load()

    def refresh(self) -> None:
        """Reload when another process (the CLI) changed the file; cheap enough to call per request."""
        now = self._monotonic()
        if now < self._next_check:
            return
        self._next_check = now + RELOAD_CHECK_S
        with self._lock:
            if self._file_stamp() != self._stamp:
                self._load()

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda user: user.username)

    def add(self, username: str, password: str, role: str) -> User:
        validate_username(username)
        validate_password(password)
        checked_role = validate_role(role)
        password_hash = self.hasher.hash(password)
        with self._lock:
            self._load_if_changed()
            if username in self._users:
                raise UserExistsError(username)
            user = User(username, checked_role, password_hash, round(time.time(), 3), new_user_id())
            self._save({**self._users, username: user})
        log.info("user %r added with role %s", username, checked_role)
        return user

    def update(self, username: str, *, role: str | None = None, password: str | None = None) -> User:
        checked_role = validate_role(role) if role is not None else None
        password_hash = self.hasher.hash(validate_password(password)) if password is not None else None
        with self._lock:
            self._load_if_changed()
            user = self._users.get(username)
            if user is None:
                raise UnknownUserError(username)
            if checked_role is not None and checked_role != "admin":
                self._keep_an_admin(username)
            changed = password_hash is not None or (checked_role not in (None, user.role))
            user = replace(
                user,
                role=checked_role or user.role,
                password_hash=password_hash or user.password_hash,
                token_generation=user.token_generation + 1 if changed else user.token_generation,
                refresh_families={} if changed else user.refresh_families,
            )
            self._save({**self._users, username: user})
        log.info("user %r updated%s", username, "; their tokens are revoked" if changed else "")
        return user

    def start_session(self, user: User, family: str, current: RefreshFamily) -> None:
        """Record a login's refresh family, unless the user changed since ``user`` was read."""
        with self._lock:
            self._load_if_changed()
            stored = self._current(user.username, user.user_id, user.token_generation)
            families = with_family(stored.refresh_families, family, current, time.time())
            self._save({**self._users, user.username: replace(stored, refresh_families=families)})

    def rotate_session(self, use: RefreshUse, current: RefreshFamily) -> User:
        """Spend the refresh token ``use`` describes and make ``current`` its family's valid token. A token
        already spent revokes its family: whoever presents it next, owner or thief, has to log in."""
        with self._lock:
            self._load_if_changed()
            user = self._current(use.username, use.user_id, use.generation)
            family = user.refresh_families.get(use.family)
            if family is None:
                raise InvalidTokenError("This session was revoked or has expired; log in again")
            if family.token_id != use.token_id:
                families = {n: f for n, f in user.refresh_families.items() if n != use.family}
                self._save({**self._users, user.username: replace(user, refresh_families=families)})
                log.warning("refresh token of user %r used twice: that session is revoked", user.username)
                raise InvalidTokenError("This refresh token was already used; log in again")
            families = with_family(user.refresh_families, use.family, current, time.time())
            user = replace(user, refresh_families=families)
            self._save({**self._users, user.username: user})
            return user

    def current(self, username: str, user_id: str, generation: int) -> User:
        """The user a token names, while the token's user id and generation are still theirs."""
        self.refresh()
        return self._current(username, user_id, generation)

    def _current(self, username: str, user_id: str, generation: int) -> User:
        user = self._users.get(username)
        if user is None or user.user_id != user_id:
            raise InvalidTokenError("The token's user no longer exists")
        if user.token_generation != generation:
            raise InvalidTokenError("The token was revoked by a password or role change; log in again")
        return user

    def remove(self, username: str, *, keep_an_admin: bool = True) -> None:
        """Remove a user; unless told otherwise, refuse to remove the only admin (the API's lockout)."""
        with self._lock:
            self._load_if_changed()
            if username not in self._users:
                raise UnknownUserError(username)
            if keep_an_admin:
                self._keep_an_admin(username)
            self._save({name: user for name, user in self._users.items() if name != username})
        log.info("user %r removed", username)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches. Unknown users cost a hash check too, so timing does
        not tell which user names exist. Slow by design: call it off the event loop."""
        self.refresh()
        user = self._users.get(username)
        if user is None:
            self.hasher.verify(password, self._dummy())
            return None
        if not self.hasher.verify(password, user.password_hash):
            return None
        return user

    def _keep_an_admin(self, username: str) -> None:
        admins = [name for name, user in self._users.items() if user.role == "admin"]
        if admins == [username]:
            raise LastAdminError(username)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not a password of anyone")
        return self._dummy_hash

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _load_if_changed(self) -> None:
        if self._file_stamp() != self._stamp:
            self._load()

    def _load(self) -> None:
        stamp = self._file_stamp()
        if stamp is None:
            self._users, self._stamp = {}, None
            return
        if tighten_mode(self.path):
            log.warning("%s was readable by other users; its mode is now 0600", self.path)
        records = json.loads(self.path.read_text(encoding="utf-8")).get("users", [])
        missing_ids = [record for record in records if not record.get("user_id")]
        for record in missing_ids:  # a file from before user ids: their old tokens stop working
            record["user_id"] = new_user_id()
        self._users = {record["username"]: _user_of(record) for record in records}
        self._stamp = stamp
        if missing_ids:
            self._save(self._users)

    def _save(self, users: dict[str, User]) -> None:
        body = {"users": [asdict(user) for user in sorted(users.values(), key=lambda u: u.username)]}
        write_private(self.path, json.dumps(body, indent=2).encode() + b"\n")
        self._users = users
        self._stamp = self._file_stamp()
