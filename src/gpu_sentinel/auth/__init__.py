"""Authentication and authorization: users with roles, JWT tokens, login throttling, access policy."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pwdlib import PasswordHash

from gpu_sentinel.auth.errors import InvalidTokenError
from gpu_sentinel.auth.policy import AccessPolicy
from gpu_sentinel.auth.secret import load_or_create_secret
from gpu_sentinel.auth.throttle import LoginThrottle
from gpu_sentinel.auth.tokens import TokenService
from gpu_sentinel.auth.users import Role, UserStore
from gpu_sentinel.config import Settings

USERS_FILE = "users.json"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a user, or nobody (``username`` None) where anonymous reads are allowed."""

    username: str | None
    role: Role

    @property
    def anonymous(self) -> bool:
        return self.username is None

    def allows(self, needed: Role) -> bool:
        return self.role == "admin" or needed == "viewer"


ANONYMOUS = Principal(None, "viewer")


def user_store(settings: Settings) -> UserStore:
    return UserStore(settings.data_dir / USERS_FILE)


class Auth:
    """Users, tokens, the login throttle and the access policy of one service."""

    def __init__(self, settings: Settings, *, hasher: PasswordHash | None = None) -> None:
        self.settings = settings
        self.policy = AccessPolicy.from_settings(settings)
        self.users = UserStore(settings.data_dir / USERS_FILE, hasher=hasher)
        self.throttle = LoginThrottle()
        self._tokens: TokenService | None = None
        self._lock = threading.Lock()

    @property
    def tokens(self) -> TokenService:
        """Made on first use, which creates the secret file when none is configured."""
        if self._tokens is None:
            with self._lock:
                if self._tokens is None:
                    configured = self.settings.jwt_secret
                    secret = load_or_create_secret(
                        configured.get_secret_value() if configured else None, self.settings.data_dir
                    )
                    self._tokens = TokenService(
                        secret,
                        access_ttl_s=self.settings.access_token_minutes * 60,
                        refresh_ttl_s=self.settings.refresh_token_hours * 3600,
                    )
        return self._tokens

    def start(self) -> None:
        """Load the secret now, so a bad one stops the service at start rather than at first login."""
        _ = self.tokens

    def principal(self, token: str) -> Principal:
        """The user an access token speaks for, with the role the users file gives them now."""
        claims = self.tokens.verify(token, "access")
        self.users.refresh()
        user = self.users.get(claims.username)
        if user is None:
            raise InvalidTokenError("The token's user no longer exists")
        return Principal(user.username, user.role)
