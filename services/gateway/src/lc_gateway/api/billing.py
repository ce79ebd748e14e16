"""`/api/v1/billing`: credit balance, transactions, purchases of Cleansing Units (Stripe
Checkout) and their receipts."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lc_gateway.api.idempotent import OPENAPI_HEADER, idempotency_key, once
from lc_gateway.api.schemas import ERRORS, Balance, Purchase, PurchaseRequest, TransactionList
from lc_gateway.edge.auth import ApiAccount, ApiOwner, GatewayDep

router = APIRouter(prefix="/billing", tags=["billing"], responses=ERRORS)

RETURN_PATH = "/billing/return"
CANCEL_PATH = "/billing?checkout=cancelled"

BALANCE_EXAMPLE = {"account_id": "acc_3f9c2a7d1e", "balance": 4200, "reserved": 12, "unit": "CU"}
TRANSACTIONS_EXAMPLE = {
    "transactions": [
        {
            "id": "ded_bat_7d1e3f9c2a",
            "kind": "deduction",
            "units": 130,
            "batch_id": "bat_7d1e3f9c2a",
            "description": "April leads",
            "created_at": "2026-04-02T03:15:00+00:00",
            "status": "open",
        },
        {
            "id": "pur_5b1c0e8f2a9d4c3b7e6f1a2d",
            "kind": "purchase",
            "units": 5000,
            "batch_id": None,
            "description": "Purchase of 5000 CU",
            "created_at": "2026-04-01T23:02:11+00:00",
            "status": "paid",
        },
    ],
    "next_cursor": "WyIyMDI2LTA0LTAxVDIzOjAyOjExKzAwOjAwIiwgInB1cl81YjEiXQ",
}
PURCHASE_EXAMPLE = {
    "purchase_id": "pur_5b1c0e8f2a9d4c3b7e6f1a2d",
    "status": "pending",
    "checkout_url": "https://checkout.stripe.com/c/pay/cs_live_a1B2c3D4e5",
    "session_id": "cs_live_a1B2c3D4e5",
    "units": 5000,
    "amount_cents": 25000,
    "currency": "AUD",
}
RECEIPT_EXAMPLE: dict[str, Any] = {
    "id": "pur_5b1c0e8f2a9d4c3b7e6f1a2d",
    "purchase_id": "pur_5b1c0e8f2a9d4c3b7e6f1a2d",
    "units": 5000,
    "amount_cents": 25000,
    "currency": "AUD",
    "provider": "stripe",
    "provider_session_id": "cs_live_a1B2c3D4e5",
    "paid_at": "2026-04-01T23:04:40.512000+00:00",
}


PURCHASE_REQUEST_EXAMPLES = {
    "panel": {"summary": "Come back to the control panel", "value": {"units": 5000}},
    "own_page": {
        "summary": "Come back to your own page",
        "value": {"units": 5000, "return_url": "https://crm.example.com/credit/done"},
    },
}


def _example(value: dict[str, Any], status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"application/json": {"example": value}}}}


class Receipt(BaseModel):
    """A paid purchase: what was paid, for how many units, where and when."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [RECEIPT_EXAMPLE]})
    id: str
    purchase_id: str
    units: int
    amount_cents: int = Field(description="The amount paid, in the currency's smallest unit")
    currency: str
    provider: str = Field(description="The payment provider (stripe)")
    provider_session_id: str = Field(description="The provider's checkout session")
    paid_at: str = Field(description="When the payment was confirmed (ISO 8601 UTC)")


class ReceiptList(BaseModel):
    receipts: list[Receipt]
    next_cursor: str | None = Field(None, description="The next page's cursor; null on the last")


@router.get(
    "/balance",
    summary="Credit balance in Cleansing Units",
    response_model=Balance,
    responses=_example(BALANCE_EXAMPLE),
)
async def balance(account: ApiAccount, gateway: GatewayDep) -> Any:
    return JSONResponse(await gateway.billing.balance(account.id))


@router.get(
    "/transactions",
    summary="Transactions, newest first, a page at a time (follow `next_cursor`)",
    response_model=TransactionList,
    responses=_example(TRANSACTIONS_EXAMPLE),
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
    summary="Start buying credit: send the browser to `checkout_url` (Stripe Checkout)",
    description="Creates a pending purchase and its Stripe Checkout Session. The client pays "
    "on the hosted page (card details never reach Lead Cleanser); the credit is added when "
    "Stripe confirms the payment. Nothing is ever charged without the client paying there.",
    status_code=201,
    response_model=Purchase,
    openapi_extra=OPENAPI_HEADER,
    responses={
        **_example(PURCHASE_EXAMPLE, 201),
        409: {"description": "A request with the same Idempotency-Key is in progress"},
        502: {"description": "The payment provider did not answer; nothing was charged"},
    },
)
async def purchase(
    order: Annotated[PurchaseRequest, Body(openapi_examples=PURCHASE_REQUEST_EXAMPLES)],
    request: Request,
    account: ApiOwner,
    gateway: GatewayDep,
) -> Any:
    base = gateway.settings.public_url.rstrip("/")
    return_url = order.return_url or base + RETURN_PATH
    cancel_url = order.return_url or base + CANCEL_PATH

    async def start() -> tuple[int, Any]:
        purchase = await gateway.billing.purchase(account.id, order.units, return_url, cancel_url)
        return 201, purchase

    key = idempotency_key(request)
    if key is None:
        status, body = await start()
        return JSONResponse(body, status_code=status)
    request_hash = hashlib.sha256(order.model_dump_json().encode()).hexdigest()
    return await once(gateway, account, key, "purchases", request_hash, start)


@router.get(
    "/receipts",
    summary="Receipts of paid purchases, newest first, a page at a time",
    response_model=ReceiptList,
    responses=_example({"receipts": [RECEIPT_EXAMPLE], "next_cursor": None}),
)
async def receipts(
    account: ApiAccount,
    gateway: GatewayDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Any:
    rows, next_cursor = await gateway.billing.receipts(account.id, limit, cursor)
    return JSONResponse({"receipts": rows, "next_cursor": next_cursor})
