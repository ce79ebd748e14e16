"""Buying credit: a purchase and its Stripe Checkout Session out, Stripe's signed events in.

A purchase is written `pending` before its session is created, with its id as the
session's `client_reference_id`, in its metadata and as the idempotency key of the
creation. Stripe delivers events at least once and may send more than one event for
one payment, so crediting is keyed twice (docs/invariants.md I9): by the event id (a
marker per applied event) and by the purchase (only a `pending` purchase turns
`paid`), both in the one transaction that credits the units and writes the receipt.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from pydantic import ValidationError

from lc_billing import domain
from lc_billing.adapters.ledger import epoch_ms
from lc_billing.adapters.payments import (
    InvalidSignature,
    ProviderError,
    ProviderEvent,
    verify_event,
)
from lc_billing.domain import CheckoutSessionObject
from lc_billing.handlers import BillingDeps
from lc_billing.metrics import PURCHASES, UNITS_CREDITED, WEBHOOK_SIGNATURE_FAILURES, WEBHOOKS
from lc_common.store import Document

log = structlog.get_logger(__name__)

PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
UNPAID_EVENTS = frozenset({"checkout.session.expired", "checkout.session.async_payment_failed"})


class BadWebhook(Exception):
    """A signed event that cannot be applied (malformed, unknown or mismatched purchase)."""


async def create_purchase(
    deps: BillingDeps, account_id: str, units: int, success_url: str, cancel_url: str
) -> Document:
    """A pending purchase and the Checkout Session where the client pays for it.

    `success_url` gets `session_id={CHECKOUT_SESSION_ID}` added; `ProviderError` if
    Stripe refused or did not answer (the purchase is then cancelled: nothing can pay it).
    """
    now = deps.clock.now()
    purchase_id = domain.new_purchase_id()
    pricing = deps.pricing
    amount = domain.price_cents(units, pricing.unit_price_cents)
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
            "currency": pricing.currency,
            "created_at": now,
            "updated_at": now,
        }
    )
    PURCHASES.labels("pending").inc()
    params = domain.checkout_params(
        purchase_id=purchase_id,
        account_id=account_id,
        units=units,
        unit_price_cents=pricing.unit_price_cents,
        currency=pricing.currency,
        success_url=success_url,
        cancel_url=cancel_url,
    )
    try:
        session = await deps.provider.create_checkout_session(params, idempotency_key=purchase_id)
    except ProviderError:
        await deps.ledger.cancel_purchase(purchase_id, now)
        PURCHASES.labels("cancelled").inc()
        raise
    await deps.ledger.attach_checkout(purchase_id, session.id, session.url)
    log.info(
        "purchase_created",
        account_id=account_id,
        purchase_id=purchase_id,
        units=units,
        session_id=session.id,
    )
    return {
        "purchase_id": purchase_id,
        "status": "pending",
        "checkout_url": session.url,
        "session_id": session.id,
        "units": units,
        "amount_cents": amount,
        "currency": pricing.currency,
    }


async def handle_payment_webhook(deps: BillingDeps, body: bytes, signature: str | None) -> str:
    """Verify and apply one Stripe event; the outcome (`paid`, `replayed`, `cancelled`,
    `awaiting_payment`, `ignored`). `InvalidSignature` if it does not verify, `BadWebhook`
    if it is signed but cannot be applied. Event types billing does not use are ignored."""
    try:
        event = verify_event(body, signature, deps.webhook_secret)
    except InvalidSignature:
        WEBHOOK_SIGNATURE_FAILURES.inc()
        log.warning("webhook_signature_invalid")
        raise
    with structlog.contextvars.bound_contextvars(event_id=event.id, event_type=event.type):
        if event.type in PAID_EVENTS:
            outcome = await _paid(deps, event)
        elif event.type in UNPAID_EVENTS:
            outcome = await _unpaid(deps, event)
        else:
            outcome = "ignored"
        WEBHOOKS.labels(outcome).inc()
        log.info("payment_webhook_applied", outcome=outcome)
    return outcome


def _session(event: ProviderEvent) -> CheckoutSessionObject:
    try:
        return CheckoutSessionObject.model_validate(event.object)
    except ValidationError as exc:
        raise BadWebhook(f"malformed checkout session: {exc.error_count()} errors") from exc


async def _ours(deps: BillingDeps, session: CheckoutSessionObject) -> Document | None:
    """The purchase a session pays for; None for a session not made by billing."""
    purchase_id = session.purchase_id
    if purchase_id is None or not purchase_id.startswith("pur_"):
        # Another product on the same Stripe account: not ours to apply.
        return None
    purchase = await deps.ledger.purchase(purchase_id)
    if purchase is None:
        raise BadWebhook(f"unknown purchase {purchase_id}")
    return purchase


async def _paid(deps: BillingDeps, event: ProviderEvent) -> str:
    session = _session(event)
    if session.payment_status != "paid":
        # A delayed payment method: `async_payment_succeeded` follows when it is paid.
        return "awaiting_payment"
    purchase = await _ours(deps, session)
    if purchase is None:
        return "ignored"
    wrong = domain.mismatch(session, purchase)
    if wrong is not None:
        WEBHOOKS.labels("mismatch").inc()
        log.error("payment_webhook_mismatch", purchase_id=purchase["_id"], field=wrong)
        raise BadWebhook(f"the session's {wrong} does not match purchase {purchase['_id']}")
    # Whole milliseconds, as the store keeps them: the receipts' page cursor is exact.
    moment = deps.clock.now()
    now = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    receipt = receipt_row(purchase, session, event.id, now)
    with structlog.contextvars.bound_contextvars(
        purchase_id=purchase["_id"], account_id=purchase["account_id"]
    ):
        if not await deps.ledger.complete_purchase(purchase, event.id, receipt, now):
            return "replayed"
        PURCHASES.labels("paid").inc()
        UNITS_CREDITED.labels("purchase").inc(purchase["units"])
        deps.relay.wake()
    return "paid"


async def _unpaid(deps: BillingDeps, event: ProviderEvent) -> str:
    purchase = await _ours(deps, _session(event))
    if purchase is None:
        return "ignored"
    if not await deps.ledger.cancel_purchase(purchase["_id"], deps.clock.now()):
        return "replayed"
    PURCHASES.labels("cancelled").inc()
    return "cancelled"


def receipt_row(
    purchase: Document, session: CheckoutSessionObject, event_id: str, paid_at: datetime
) -> Document:
    """The receipt of a paid purchase: what was paid, for what, where and when."""
    return {
        "_id": purchase["_id"],
        "account_id": purchase["account_id"],
        "purchase_id": purchase["_id"],
        "units": purchase["units"],
        "amount_cents": session.amount_total,
        "currency": purchase["currency"],
        "provider": "stripe",
        "provider_session_id": session.id,
        "payment_intent": session.payment_intent,
        "event_id": event_id,
        "paid_at": paid_at,
        "paid_at_ms": epoch_ms(paid_at),
    }
