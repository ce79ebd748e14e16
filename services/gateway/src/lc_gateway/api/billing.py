"""`/api/v1/billing`: credit balance, transactions and purchases of Cleansing Units."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

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
)
async def purchase(order: PurchaseRequest, account: ApiAccount, gateway: GatewayDep) -> Any:
    return_url = order.return_url or gateway.settings.public_url.rstrip("/") + RETURN_PATH
    started = await gateway.billing.purchase(account.id, order.units, return_url)
    return JSONResponse(started, status_code=201)
