"""`/api/v1/billing`: credit balance, transactions and purchases of Cleansing Units."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from lc_gateway.api.idempotent import OPENAPI_HEADER, idempotency_key, once
from lc_gateway.api.schemas import ERRORS, Balance, Purchase, PurchaseRequest, TransactionList
from lc_gateway.auth import ApiAccount, GatewayDep

router = APIRouter(prefix="/billing", tags=["billing"], responses=ERRORS)

RETURN_PATH = "/billing/return"


@router.get("/balance", summary="Credit balance in Cleansing Units", response_model=Balance)
async def balance(account: ApiAccount, gateway: GatewayDep) -> Any:
    return JSONResponse(await gateway.billing.balance(account.id))


@router.get(
    "/transactions", summary="Every transaction, newest first", response_model=TransactionList
)
async def transactions(account: ApiAccount, gateway: GatewayDep) -> Any:
    return JSONResponse({"transactions": await gateway.billing.transactions(account.id)})


@router.post(
    "/purchases",
    summary="Start buying credit: send the browser to `checkout_url`",
    status_code=201,
    response_model=Purchase,
    openapi_extra=OPENAPI_HEADER,
    responses={409: {"description": "A request with the same Idempotency-Key is in progress"}},
)
async def purchase(
    order: PurchaseRequest, request: Request, account: ApiAccount, gateway: GatewayDep
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
