"""User administration, for admins only: list, add, change role or password, remove."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from gpu_sentinel import models
from gpu_sentinel.api.deps import ServiceDep, require_admin
from gpu_sentinel.auth.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_PATTERN, Role, User

router = APIRouter(prefix="/api/v1/users", tags=["users"], dependencies=[Depends(require_admin)])

Username = Annotated[str, Field(pattern=USERNAME_PATTERN, min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, min_length=1, max_length=64)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        401: "A token is needed.",
        403: "Only admins manage users.",
        404: "No such user.",
        409: "The user exists already, or is the only admin.",
        422: "Malformed request.",
    }
    return {code: {"model": models.ErrorResponse, "description": descriptions[code]} for code in codes}


class UserOut(BaseModel):
    username: str
    role: Role
    created_at: float = Field(description="Unix seconds.")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(username=user.username, role=user.role, created_at=user.created_at)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role = "viewer"


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    password: Password | None = None


@router.get("", response_model=list[UserOut], responses=_errors(401, 403))
def list_users(service: ServiceDep) -> list[UserOut]:
    service.auth.users.refresh()
    return [UserOut.of(user) for user in service.auth.users.list()]


@router.post("", response_model=UserOut, status_code=201, responses=_errors(401, 403, 409, 422))
def add_user(body: UserCreate, service: ServiceDep) -> UserOut:
    return UserOut.of(service.auth.users.add(body.username, body.password, body.role))


@router.patch("/{username}", response_model=UserOut, responses=_errors(401, 403, 404, 409, 422))
def update_user(username: UsernamePath, body: UserUpdate, service: ServiceDep) -> UserOut:
    """Change a user's role or password; every token they hold stops working, so they log in again."""
    return UserOut.of(service.auth.users.update(username, role=body.role, password=body.password))


@router.delete(
    "/{username}", status_code=204, response_class=Response, responses=_errors(401, 403, 404, 409, 422)
)
def remove_user(username: UsernamePath, service: ServiceDep) -> Response:
    """Remove a user; their tokens stop working at once."""
    service.auth.users.remove(username)
    return Response(status_code=204)
