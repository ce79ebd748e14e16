"""What billing does with each verdict and each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from lc_billing import domain
from lc_billing.adapters.payments import CheckoutSession, ProviderError
from lc_billing.domain import CreditState, PaymentWebhook
from lc_billing.metrics import (
    BALANCE_EXHAUSTED,
    CREDIT_RESTORED,
    DUPLICATE_VERDICTS,
    PURCHASES,
    UNITS_CREDITED,
    UNITS_DEDUCTED,
    WEBHOOK_SIGNATURE_FAILURES,
    WEBHOOKS,
)
from lc_common.clock import Clock
from lc_common.errors import PoisonEvent
from lc_common.events import CreditEventV1, LeadVerdictV1
from lc_common.store import Document

log = structlog.get_logger(__name__)


class Ledger(Protocol):
    async def charge(self, verdict: LeadVerdictV1, now: datetime) -> bool: ...
    async def create_purchase(self, purchase: Document) -> None: ...
    async def attach_checkout(self, purchase_id: str, session_id: str, url: str) -> None: ...
    async def purchase(self, purchase_id: str) -> Document | None: ...
    async def complete_purchase(self, purchase: Document, now: datetime) -> bool: ...
    async def cancel_purchase(self, purchase_id: str, now: datetime) -> bool: ...
    async def grant(self, row: Document) -> None: ...
    async def credit_status(self, account_id: str) -> tuple[int, CreditState]: ...
    async def mark_published(self, account_id: str, old: CreditState, new: CreditState) -> bool: ...
    async def transactions(self, account_id: str, limit: int = 500) -> list[Document]: ...


class Provider(Protocol):
    async def create_checkout_session(
        self, *, purchase_id: str, units: int, amount_cents: int, currency: str, return_url: str
    ) -> CheckoutSession: ...


class CreditEvents(Protocol):
    async def publish(self, event: CreditEventV1) -> None: ...


@dataclass(frozen=True)
class Pricing:
    unit_price_cents: int
    currency: str


@dataclass
class BillingDeps:
    """Everything the handlers need, built by `bootstrap`."""

    ledger: Ledger
    provider: Provider
    credit_events: CreditEvents
    clock: Clock
    pricing: Pricing
    webhook_secret: str


class InvalidSignature(Exception):
    """A webhook whose signature does not verify: refused, nothing changes."""


class BadWebhook(Exception):
    """A signed webhook that cannot be applied (malformed, unknown or mismatched purchase)."""


async def handle_verdict(event: LeadVerdictV1, deps: BillingDeps) -> None:
    """Deduct one unit for a lead's final verdict, exactly once, then announce exhaustion."""
    if event.attempt < 1:
        raise PoisonEvent(f"verdict for attempt {event.attempt}")
    if not domain.is_chargeable(event):
        return
    if await deps.ledger.charge(event, deps.clock.now()):
        UNITS_DEDUCTED.inc()
    else:
        DUPLICATE_VERDICTS.inc()
        log.info("verdict_already_charged")
    # Also for a duplicate: a crash after the charge but before the event is healed here.
    await sync_credit_state(deps, event.account_id)


async def sync_credit_state(deps: BillingDeps, account_id: str) -> None:
    """Publish `exhausted` / `restored` until the announced state matches the balance.

    The event is published before the state is recorded, so a crash in between
    announces it again (at-least-once; ingest's pause and resume are idempotent).
    Re-reading after each record makes concurrent callers (the verdict consumer and
    a webhook) converge on the last balance.
    """
    while True:
        balance, published = await deps.ledger.credit_status(account_id)
        due = domain.credit_event_due(balance, published)
        if due is None:
            return
        await deps.credit_events.publish(
            CreditEventV1(account_id=account_id, kind=due, balance=balance)
        )
        if await deps.ledger.mark_published(account_id, published, due):
            (BALANCE_EXHAUSTED if due == "exhausted" else CREDIT_RESTORED).inc()
            log.info("credit_event_published", account_id=account_id, kind=due, balance=balance)


async def create_purchase(
    deps: BillingDeps, account_id: str, units: int, return_url: str
) -> Document:
    """A pending purchase and the provider's hosted page where the client pays for it."""
    now = deps.clock.now()
    purchase_id = domain.new_purchase_id()
    amount = domain.price_cents(units, deps.pricing.unit_price_cents)
    await deps.ledger.create_purchase(
        {
            "_id": purchase_id,
            "account_id": account_id,
            "kind": "purchase",
            "units": units,
            "batch_id": None,
            "description": f"Purchase of {units} {domain.UNIT}",
            "status": "pending",
            "amount_cents": amount,
            "currency": deps.pricing.currency,
            "created_at": now,
            "updated_at": now,
        }
    )
    PURCHASES.labels("pending").inc()
    try:
        session = await deps.provider.create_checkout_session(
            purchase_id=purchase_id,
            units=units,
            amount_cents=amount,
            currency=deps.pricing.currency,
            return_url=return_url,
        )
    except ProviderError:
        # Nothing can pay for it now; the client starts a new purchase.
        await deps.ledger.cancel_purchase(purchase_id, now)
        PURCHASES.labels("cancelled").inc()
        raise
    await deps.ledger.attach_checkout(purchase_id, session.id, session.url)
    log.info("purchase_created", account_id=account_id, purchase_id=purchase_id, units=units)
    return {"purchase_id": purchase_id, "status": "pending", "checkout_url": session.url}


async def handle_payment_webhook(deps: BillingDeps, body: bytes, signature: str | None) -> str:
    """Apply the provider's signed notification; returns the outcome. Replays change nothing."""
    if not domain.verify_signature(body, signature, deps.webhook_secret):
        WEBHOOK_SIGNATURE_FAILURES.inc()
        log.warning("webhook_signature_invalid")
        raise InvalidSignature("signature does not verify")
    try:
        hook = PaymentWebhook.model_validate_json(body)
    except ValidationError as exc:
        raise BadWebhook(f"malformed webhook: {exc.error_count()} errors") from exc
    purchase = await deps.ledger.purchase(hook.purchase_id)
    if purchase is None:
        raise BadWebhook(f"unknown purchase {hook.purchase_id}")
    _check_matches(hook, purchase)
    now = deps.clock.now()
    with structlog.contextvars.bound_contextvars(
        purchase_id=hook.purchase_id, account_id=purchase["account_id"], webhook_id=hook.id
    ):
        if hook.type == "checkout.cancelled":
            cancelled = await deps.ledger.cancel_purchase(hook.purchase_id, now)
            outcome = "cancelled" if cancelled else "replayed"
        elif await deps.ledger.complete_purchase(purchase, now):
            outcome = "paid"
            UNITS_CREDITED.labels("purchase").inc(purchase["units"])
        else:
            outcome = "replayed"
        if outcome != "replayed":
            PURCHASES.labels(outcome).inc()
        WEBHOOKS.labels(outcome).inc()
        log.info("payment_webhook_applied", outcome=outcome)
        await sync_credit_state(deps, purchase["account_id"])
    return outcome


def _check_matches(hook: PaymentWebhook, purchase: Document) -> None:
    expected: dict[str, Any] = {
        "session_id": purchase.get("provider_session_id"),
        "units": purchase["units"],
        "amount_cents": purchase["amount_cents"],
        "currency": purchase["currency"],
    }
    for field, value in expected.items():
        if getattr(hook, field) != value:
            WEBHOOKS.labels("mismatch").inc()
            raise BadWebhook(f"webhook {field} does not match purchase {hook.purchase_id}")


async def grant(deps: BillingDeps, account_id: str, units: int, description: str) -> Document:
    """Credit units without payment (operator or demo credit)."""
    now = deps.clock.now()
    row = {
        "_id": domain.new_grant_id(),
        "account_id": account_id,
        "kind": "grant",
        "units": units,
        "batch_id": None,
        "description": description,
        "status": "completed",
        "created_at": now,
        "updated_at": now,
    }
    await deps.ledger.grant(row)
    UNITS_CREDITED.labels("grant").inc(units)
    log.info("grant_recorded", account_id=account_id, units=units)
    await sync_credit_state(deps, account_id)
    return row
