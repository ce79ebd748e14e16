"""`/api/v1/billing`: credit balance, transactions and purchases of Cleansing Units."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from lc_gateway.api.idempotent import OPENAPI_HEADER, idempotency_key, once
from lc_gateway.api.schemas import ERRORS, Balance, Purchase, PurchaseRequest, TransactionList
from lc_gateway.auth import ApiAccount, ApiOwner, GatewayDep

router = APIRouter(prefix="/billing", tags=["billing"], responses=ERRORS)

RETURN_PATH = "/billing/return"


@router.get("/balance", summary="Credit balance in Cleansing Units", response_model=Balance)
async def balance(account: ApiAccount, gateway: GatewayDep) -> Any:
    return JSONResponse(await gateway.billing.balance(account.id))


@router.get(
    "/transactions",
    summary="Transactions, newest first, a page at a time (follow `next_cursor`)",
    response_model=TransactionList,
)
async def transactions(
    account: ApiAccount,
    gateway: GatewayDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Any:
    rows, next_cursor = await gateway.billing.transactions(account.id, limit, cursor)
    return JSONResponse({"transactions": rows, "next_cursor": next_cursor})


@router.post(
    "/purchases",
    summary="Start buying credit: send the browser to `checkout_url`",
    status_code=201,
    response_model=Purchase,
    openapi_extra=OPENAPI_HEADER,
    responses={409: {"description": "A request with the same Idempotency-Key is in progress"}},
)
async def purchase(
    order: PurchaseRequest, request: Request, account: ApiOwner, gateway: GatewayDep
) -> Any:
    return_url = order.return_url or gateway.settings.public_url.rstrip("/") + RETURN_PATH

    async def start() -> tuple[int, Any]:
        return 201, await gateway.billing.purchase(account.id, order.units, return_url)

    key = idempotency_key(request)
    if key is None:
        status, body = await start()
        return JSONResponse(body, status_code=status)
    request_hash = hashlib.sha256(order.model_dump_json().encode()).hexdigest()
    return await once(gateway, account, key, "purchases", request_hash, start)
