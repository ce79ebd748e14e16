"""Billing's HTTP surface: the internal API (gateway: credit; scheduler: reservations) and
Stripe's webhook."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, model_validator

from lc_billing import handlers, purchases
from lc_billing.adapters.payments import InvalidSignature, ProviderError
from lc_billing.config import BillingSettings
from lc_billing.domain import UNIT
from lc_billing.handlers import BillingDeps
from lc_billing.metrics import WEBHOOKS_TOO_LARGE
from lc_billing.purchases import BadWebhook
from lc_common.events.types import Identifier
from lc_common.http import AccountId, InternalCaller, ServiceError
from lc_common.store import Document

# The webhook endpoint is public: a body larger than any real notification is refused unread.
MAX_WEBHOOK_BYTES = 64 * 1024


def _deps(request: Request) -> BillingDeps:
    deps: BillingDeps = request.app.state.runtime.deps
    return deps


Deps = Annotated[BillingDeps, Depends(_deps)]


class LeadToReserve(BaseModel):
    lead_id: Identifier
    batch_id: Identifier


class ReservationRequest(BaseModel):
    account_id: Identifier
    leads: list[LeadToReserve] = Field(min_length=1, max_length=1000)


class ReleaseRequest(BaseModel):
    """Either the leads, or a whole batch."""

    lead_ids: list[Identifier] | None = Field(None, min_length=1, max_length=1000)
    batch_id: Identifier | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ReleaseRequest:
        if (self.lead_ids is None) == (self.batch_id is None):
            raise ValueError("give either lead_ids or batch_id")
        return self


class PurchaseRequest(BaseModel):
    """`return_url`: where the browser goes once paid (Stripe's `success_url`, with
    `session_id` added); `cancel_url`: where Cancel leads (default: `return_url`)."""

    units: int = Field(gt=0, le=10_000_000)
    return_url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    cancel_url: str | None = Field(None, min_length=1, max_length=2000, pattern=r"^https?://")


class GrantRequest(BaseModel):
    units: int = Field(gt=0, le=10_000_000)
    description: str = Field("Credit grant", max_length=500)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def transaction_json(row: Document) -> dict[str, Any]:
    """A transaction as the contract shows it."""
    return {
        "id": row["_id"],
        "kind": row["kind"],
        "units": row.get("units", 0),
        "batch_id": row.get("batch_id"),
        "description": row.get("description", ""),
        "created_at": _iso(row.get("created_at")),
        "status": row.get("status"),
    }


internal = APIRouter(prefix="/internal/v1", dependencies=[InternalCaller])
webhooks = APIRouter()


@internal.get("/balance")
async def balance(deps: Deps, account_id: AccountId) -> dict[str, Any]:
    """What the account owns (`balance` = credited - charged), holds for leads in flight
    (`reserved`) and can still reserve (`available`)."""
    held = await deps.ledger.balance(account_id)
    return {
        "account_id": account_id,
        "balance": held.balance,
        "reserved": held.reserved,
        "available": held.available,
        "unit": UNIT,
    }


@internal.get("/price")
async def price(request: Request) -> dict[str, Any]:
    """The price of one unit, shown beside Buy Credit before the client goes to pay."""
    settings: BillingSettings = request.app.state.settings
    return {
        "unit": UNIT,
        "unit_price_cents": settings.unit_price_cents,
        "currency": settings.currency,
    }


@internal.post("/reservations")
async def reserve(body: ReservationRequest, deps: Deps) -> dict[str, Any]:
    """Hold a unit per lead before it is dialled (idempotent per lead; see handlers.reserve)."""
    leads = [(lead.lead_id, lead.batch_id) for lead in body.leads]
    with structlog.contextvars.bound_contextvars(account_id=body.account_id):
        return await handlers.reserve(deps, body.account_id, leads)


@internal.post("/reservations/release")
async def release(body: ReleaseRequest, deps: Deps) -> dict[str, int]:
    """Release open reservations of leads or of a batch that failed or was deleted."""
    released = await handlers.release(deps, lead_ids=body.lead_ids or (), batch_id=body.batch_id)
    return {"released": released}


def receipt_json(row: Document) -> dict[str, Any]:
    """A receipt as the contract shows it."""
    return {
        "id": row["_id"],
        "purchase_id": row["purchase_id"],
        "units": row["units"],
        "amount_cents": row["amount_cents"],
        "currency": row["currency"],
        "provider": row.get("provider", "stripe"),
        "provider_session_id": row["provider_session_id"],
        "paid_at": _iso(row.get("paid_at")),
    }


def encode_cursor(row: Document, time_field: str = "created_at") -> str:
    """The opaque cursor after `row`: its `(<time_field>, _id)`, URL-safe."""
    moment = row.get(time_field)
    raw = json.dumps([moment.isoformat() if moment else None, row["_id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The `(created_at, _id)` a cursor names; 422 `invalid_cursor` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created_at), str(row_id)
    except (ValueError, TypeError) as exc:
        raise ServiceError(422, "invalid_cursor", "the cursor is not one this API gave") from exc


@internal.get("/transactions")
async def transactions(
    deps: Deps,
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> dict[str, Any]:
    """A page of the account's transactions, newest first; `next_cursor` names the next page
    (null on the last). Pages are stable under inserts: a cursor is the last row's
    `(created_at, _id)`, and new rows are newer than it."""
    after = decode_cursor(cursor) if cursor else None
    rows = await deps.ledger.transactions(account_id, limit + 1, after)
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "transactions": [transaction_json(r) for r in page],
        "next_cursor": encode_cursor(page[-1]) if more else None,
    }


@internal.get("/receipts")
async def receipts(
    deps: Deps,
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> dict[str, Any]:
    """A page of the account's receipts (one per paid purchase), newest paid first; paged
    as `/transactions` is (`next_cursor`, null on the last page)."""
    after = decode_cursor(cursor) if cursor else None
    rows = await deps.ledger.receipts(account_id, limit + 1, after)
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "receipts": [receipt_json(r) for r in page],
        "next_cursor": encode_cursor(page[-1], "paid_at") if more else None,
    }


@internal.post("/purchases", status_code=201)
async def purchase(
    body: PurchaseRequest, request: Request, deps: Deps, account_id: AccountId
) -> Any:
    """Start a purchase: `{"purchase_id", "status": "pending", "checkout_url", "session_id",
    "units", "amount_cents", "currency"}`; 502 `provider_unavailable` if Stripe failed."""
    settings: BillingSettings = request.app.state.settings
    if body.units > settings.max_purchase_units:
        raise ServiceError(
            422, "too_many_units", f"at most {settings.max_purchase_units} per purchase"
        )
    cancel_url = body.cancel_url or body.return_url
    try:
        return await purchases.create_purchase(
            deps, account_id, body.units, body.return_url, cancel_url
        )
    except ProviderError as exc:
        raise ServiceError(
            502, "provider_unavailable", "the payment provider did not answer"
        ) from exc


@internal.post("/grants", status_code=201)
async def grant(body: GrantRequest, deps: Deps, account_id: AccountId) -> dict[str, Any]:
    row = await handlers.grant(deps, account_id, body.units, body.description)
    return transaction_json(row)


@webhooks.post("/webhooks/payments")
async def payment_webhook(
    request: Request,
    deps: Deps,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, str]:
    """Stripe's webhook endpoint: 400 unless `Stripe-Signature` verifies; 200 for every
    verified event, applied once (types billing does not use are acknowledged)."""
    body = await _capped_body(request, MAX_WEBHOOK_BYTES)
    try:
        outcome = await purchases.handle_payment_webhook(deps, body, signature)
    except InvalidSignature as exc:
        raise ServiceError(
            400, "invalid_signature", "the webhook signature does not verify"
        ) from exc
    except BadWebhook as exc:
        raise ServiceError(400, "bad_webhook", str(exc)) from exc
    return {"outcome": outcome}


async def _capped_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it exceeds `limit` bytes (announced or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        WEBHOOKS_TOO_LARGE.inc()
        raise ServiceError(413, "too_large", f"the body exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            WEBHOOKS_TOO_LARGE.inc()
            raise ServiceError(413, "too_large", f"the body exceeds {limit} bytes")
    return bytes(body)
