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
from gpu_sentinel.auth.users import Role, validate_role

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


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float


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

    def issue(self, username: str, role: Role, token_type: TokenType) -> IssuedToken:
        now = int(self._clock())
        ttl = self.access_ttl_s if token_type == "access" else self.refresh_ttl_s
        expires_at = now + int(ttl)
        claims = {
            "sub": username,
            "role": role,
            "typ": token_type,
            "iss": ISSUER,
            "iat": now,
            "exp": expires_at,
            "jti": secrets.token_urlsafe(8),
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at)

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
                options={"require": ["exp", "iat", "sub", "typ"], "verify_exp": False},
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
        try:
            role = validate_role(str(payload.get("role")))
        except InvalidUserError:
            raise InvalidTokenError("Token is not valid: unknown role") from None
        return Claims(payload["sub"], role, token_type, float(payload["exp"]))

    def _remember(self, token: str, claims: Claims) -> None:
        if len(self._verified) >= self._cache_size:
            now = self._clock()
            self._verified = {t: c for t, c in self._verified.items() if c.expires_at > now}
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
        self._verified[token] = claims
