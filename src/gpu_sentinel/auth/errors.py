"""Errors of authentication and authorization. Each carries the headers its response needs
(``WWW-Authenticate`` on 401, ``Retry-After`` on 429), so one handler answers them all."""

from __future__ import annotations

from gpu_sentinel.errors import SentinelError

REALM = "gpu-sentinel"


class AuthError(SentinelError):
    """Base class: an error whose response carries extra headers."""

    @property
    def headers(self) -> dict[str, str]:
        return {}


class NotAuthenticatedError(AuthError):
    """No credentials where the policy needs them."""

    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: str = "Authentication required: send 'Authorization: Bearer <token>'") -> None:
        super().__init__(detail)

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"'}


class InvalidTokenError(NotAuthenticatedError):
    """A token that is malformed, forged, expired or of the wrong kind (RFC 6750 ``invalid_token``)."""

    code = "invalid_token"

    @property
    def headers(self) -> dict[str, str]:
        description = self.detail.replace('"', "'")
        return {
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", '
            f'error_description="{description}"'
        }


class InvalidCredentialsError(NotAuthenticatedError):
    """Wrong user name or password; which of the two is never said."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Invalid user name or password")


class PermissionDeniedError(AuthError):
    """Authenticated, but the role does not allow this."""

    status_code = 403
    code = "forbidden"

    def __init__(self, needed: str) -> None:
        super().__init__(f"This needs the {needed} role")

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'}


class TooManyRequestsError(AuthError):
    """A client that must wait ``retry_after_s`` seconds before asking again."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class LoginLockedError(TooManyRequestsError):
    """Too many failed logins for one user from one client."""

    code = "login_locked"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many failed logins; try again in {max(1, retry_after_s)} s", retry_after_s=retry_after_s
        )


class LoginBusyError(TooManyRequestsError):
    """Every password-hashing slot is taken: the service will not spend more memory on logins."""

    code = "login_busy"

    def __init__(self) -> None:
        super().__init__("Too many logins in progress; try again in 1 s", retry_after_s=1)


class UserExistsError(SentinelError):
    status_code = 409
    code = "user_exists"

    def __init__(self, username: str) -> None:
        super().__init__(f"User {username!r} already exists")


class UnknownUserError(SentinelError):
    status_code = 404
    code = "unknown_user"

    def __init__(self, username: str) -> None:
        super().__init__(f"No user named {username!r}")


class LastAdminError(SentinelError):
    """Removing or demoting the only admin would lock everyone out of every change."""

    status_code = 409
    code = "last_admin"

    def __init__(self, username: str) -> None:
        super().__init__(f"{username!r} is the only admin; add another admin first")


class InvalidUserError(SentinelError):
    status_code = 422
    code = "validation_error"
