"""`/internal/v1`: what peer services ask the gateway (the notifier: an account's address)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lc_common.http import InternalCaller
from lc_gateway.edge.auth import GatewayDep
from lc_gateway.errors import NotFound

router = APIRouter(prefix="/internal/v1", include_in_schema=False, dependencies=[InternalCaller])


@router.get("/accounts/{account_id}")
async def get_account(account_id: str, gateway: GatewayDep) -> dict[str, Any]:
    account = await gateway.accounts.get_account(account_id)
    if account is None:
        raise NotFound(f"There is no account {account_id!r}.")
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "time_zone": account.time_zone,
    }
