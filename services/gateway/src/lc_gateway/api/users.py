"""`/api/v1/users`: who can log into the account's control panel (owners and API keys only).

Users are managed in the panel (invitations are mailed links); the API lists them,
for scripts that audit who has access.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lc_gateway.api.schemas import ERRORS, ErrorBody
from lc_gateway.edge.auth import ApiOwner, GatewayDep

API_PREFIX = "/api/v1"

router = APIRouter(
    prefix=f"{API_PREFIX}/users",
    tags=["users"],
    responses={
        **ERRORS,
        403: {
            "model": ErrorBody,
            "description": "A member's session: owners only",
            "content": {
                "application/json": {
                    "example": {
                        "error": {"code": "forbidden", "message": "Only an owner may do this."}
                    }
                }
            },
        },
    },
)


class UserOut(BaseModel):
    """A user of the account (never a password or its hash)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "usr_5f0c2a9e1b7d4c3a8e6f0b12",
                    "email": "ops@acme.example",
                    "name": "Jane Ops",
                    "role": "owner",
                    "created_at": "2025-03-04T09:00:00Z",
                }
            ]
        }
    )
    id: str
    email: str = Field(description="The login, lower case.")
    name: str
    role: str = Field(description="owner (everything) or member (no credit, users or keys)")
    created_at: datetime | None = Field(description="None for the account's first login")


class UserList(BaseModel):
    """The account's active users, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"users": UserOut.model_json_schema()["examples"]}]}
    )
    users: list[UserOut]


@router.get(
    "",
    summary="The account's users (API keys and owners' sessions; members get 403)",
    response_model=UserList,
)
async def list_users(account: ApiOwner, gateway: GatewayDep) -> Any:
    users = await gateway.accounts.users(account.id)
    return UserList(
        users=[
            UserOut(
                id=user.id,
                email=user.login,
                name=user.name,
                role=user.role,
                created_at=user.created_at,
            )
            for user in users
        ]
    )
