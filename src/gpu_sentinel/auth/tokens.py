"""JWT access and refresh tokens (HS256). Access tokens are verified once and their claims cached until
they expire, so a request carrying a token usually costs a dictionary lookup, not an HMAC."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jwt

from gpu_sentinel.auth.errors import InvalidTokenError, InvalidUserError
from gpu_sentinel.auth.users import Role, User, validate_role

ALGORITHM = "HS256"
ISSUER = "gpu-sentinel"
TokenType = Literal["access", "refresh"]
CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class Claims:
    username: str
    role: Role
    token_type: TokenType
    expires_at: float
    user_id: str
    generation: int
    token_id: str
    family: str | None  # refresh tokens: the login session they belong to


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float
    token_id: str
    lifetime_s: int


def new_token_id() -> str:
    return secrets.token_urlsafe(12)


class TokenService:
    """Issues and verifies tokens signed with one secret."""

    def __init__(
        self,
        secret: bytes,
        *,
        access_ttl_s: float,
        refresh_ttl_s: float,
        clock: Callable[[], float] = time.time,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._secret = secret
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self._clock = clock
        self._cache_size = cache_size
        self._verified: dict[str, Claims] = {}

    def issue(
        self,
        user: User,
        token_type: TokenType,
        *,
        family: str | None = None,
        token_id: str | None = None,
        not_after: float | None = None,
    ) -> IssuedToken:
        """A token for ``user`` as the users file has them now: it stops working when their id or token
        generation changes (removal, password or role change). ``not_after`` caps its expiry."""
        now = int(self._clock())
        ttl = self.access_ttl_s if token_type == "access" else self.refresh_ttl_s
        expires_at = now + int(ttl) if not_after is None else min(now + int(ttl), int(not_after))
        token_id = token_id or new_token_id()
        claims: dict[str, object] = {
            "sub": user.username,
            "uid": user.user_id,
            "gen": user.token_generation,
            "role": user.role,
            "typ": token_type,
            "iss": ISSUER,
            "iat": now,
            "exp": expires_at,
            "jti": token_id,
        }
        if family is not None:
            claims["fam"] = family
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token, expires_at, token_id, lifetime_s=expires_at - now)

    def verify(self, token: str, token_type: TokenType = "access") -> Claims:
        """The token's claims, or ``InvalidTokenError`` saying what is wrong with it."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if claims.token_type == "access":
                self._remember(token, claims)
        if self._clock() >= claims.expires_at:
            self._verified.pop(token, None)
            raise InvalidTokenError("Token has expired; log in or refresh it")
        if claims.token_type != token_type:
            raise InvalidTokenError(f"A {claims.token_type} token cannot be used as a {token_type} token")
        return claims

    def _decode(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "typ", "uid", "gen", "jti"], "verify_exp": False},
            )
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("Token signature is not valid") from None
        except jwt.DecodeError:
            raise InvalidTokenError("Token is malformed") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"Token is not valid: {exc}") from None
        token_type = payload.get("typ")
        if token_type not in ("access", "refresh") or not isinstance(payload.get("sub"), str):
            raise InvalidTokenError("Token is not valid: unknown type or subject")
        family = payload.get("fam")
        if token_type == "refresh" and not isinstance(family, str):
            raise InvalidTokenError("Token is not valid: a refresh token without a session")
        if not isinstance(payload["gen"], int) or not isinstance(payload["uid"], str):
            raise InvalidTokenError("Token is not valid: malformed user claims")
        try:
            role = validate_role(str(payload.get("role")))
        except InvalidUserError:
            raise InvalidTokenError("Token is not valid: unknown role") from None
        return Claims(
            username=payload["sub"],
            role=role,
            token_type=token_type,
            expires_at=float(payload["exp"]),
            user_id=payload["uid"],
            generation=payload["gen"],
            token_id=str(payload["jti"]),
            family=family if isinstance(family, str) else None,
        )

    def _remember(self, token: str, claims: Claims) -> None:
        if len(self._verified) >= self._cache_size:
            now = self._clock()
            self._verified = {t: c for t, c in self._verified.items() if c.expires_at > now}
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
        self._verified[token] = claims
