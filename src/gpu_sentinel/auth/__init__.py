"""Authentication and authorization: users with roles, JWT tokens, login throttling, access policy."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pwdlib import PasswordHash

from gpu_sentinel.auth.errors import InvalidTokenError
from gpu_sentinel.auth.hashing import HashingSlots
from gpu_sentinel.auth.policy import AccessPolicy
from gpu_sentinel.auth.secret import load_or_create_secret
from gpu_sentinel.auth.sessions import RefreshFamily, RefreshUse
from gpu_sentinel.auth.throttle import LoginThrottle
from gpu_sentinel.auth.tokens import IssuedToken, TokenService, new_token_id
from gpu_sentinel.auth.users import Role, User, UserStore
from gpu_sentinel.config import Settings

USERS_FILE = "users.json"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh: IssuedToken


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
    """Users, tokens, the login throttle, the hashing bound and the access policy of one service."""

    def __init__(self, settings: Settings, *, hasher: PasswordHash | None = None) -> None:
        self.settings = settings
        self.policy = AccessPolicy.from_settings(settings)
        self.users = UserStore(settings.data_dir / USERS_FILE, hasher=hasher)
        self.throttle = LoginThrottle()
        self.hashing = HashingSlots()
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
        """The user an access token speaks for, while the token is still theirs (same user id and token
        generation: no removal, password or role change since it was issued)."""
        claims = self.tokens.verify(token, "access")
        user = self.users.current(claims.username, claims.user_id, claims.generation)
        return Principal(user.username, user.role)

    def login_tokens(self, user: User) -> TokenPair:
        """An access token and the first refresh token of a new session."""
        family = new_token_id()
        refresh = self.tokens.issue(user, "refresh", family=family)
        self.users.start_session(user, family, RefreshFamily(refresh.token_id, refresh.expires_at))
        return TokenPair(self.tokens.issue(user, "access"), refresh)

    def refreshed_tokens(self, refresh_token: str) -> tuple[User, TokenPair]:
        """Spend ``refresh_token`` for a new pair in the same session; reuse of a spent one revokes it.
        The new refresh token expires with the old one: a session lasts at most one refresh lifetime."""
        claims = self.tokens.verify(refresh_token, "refresh")
        if claims.family is None:
            raise InvalidTokenError("Token is not valid: a refresh token without a session")
        use = RefreshUse(claims.username, claims.user_id, claims.generation, claims.family, claims.token_id)
        token_id = new_token_id()
        user = self.users.rotate_session(use, RefreshFamily(token_id, claims.expires_at))
        refresh = self.tokens.issue(
            user, "refresh", family=claims.family, token_id=token_id, not_after=claims.expires_at
        )
        return user, TokenPair(self.tokens.issue(user, "access"), refresh)
