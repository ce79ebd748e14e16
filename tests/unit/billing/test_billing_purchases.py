"""Buying credit with in-memory ports and real Stripe signatures: a purchase's session, and
each event credited once whatever is replayed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe
from tests.unit.billing.fakes import SECRET, FakeProvider, MemoryLedger, memory_deps

from lc_billing import purchases
from lc_billing.adapters.payments import InvalidSignature, ProviderError
from lc_billing.handlers import BillingDeps
from lc_billing.purchases import BadWebhook


@pytest.fixture
def deps() -> BillingDeps:
    return memory_deps()


def _ledger(deps: BillingDeps) -> MemoryLedger:
    assert isinstance(deps.ledger, MemoryLedger)
    return deps.ledger


def _event(
    purchase: dict[str, Any],
    kind: str = "checkout.session.completed",
    event_id: str = "evt_1",
    **session: Any,
) -> bytes:
    obj = {
        "id": purchase["session_id"],
        "object": "checkout.session",
        "client_reference_id": purchase["purchase_id"],
        "metadata": {"account_id": "acc_1", "purchase_id": purchase["purchase_id"]},
        "amount_total": purchase["amount_cents"],
        "currency": "aud",
        "payment_status": "paid",
        "status": "complete",
        "payment_intent": "pi_1",
        **session,
    }
    body = {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}
    return json.dumps(body).encode()


def _sign(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, at)


async def _buy(deps: BillingDeps, units: int = 100) -> dict[str, Any]:
    return await purchases.create_purchase(
        deps, "acc_1", units, "https://app/billing/return", "https://app/billing"
    )


async def test_a_purchase_asks_for_its_session_with_its_id_as_idempotency_key(
    deps: BillingDeps,
) -> None:
    created = await _buy(deps, 300)
    provider = deps.provider
    assert isinstance(provider, FakeProvider)
    [(params, key)] = provider.created
    assert key == created["purchase_id"]
    assert params["client_reference_id"] == created["purchase_id"]
    assert params["line_items"][0]["quantity"] == 300
    assert created["amount_cents"] == 1500 and created["currency"] == "AUD"
    row = _ledger(deps).rows[created["purchase_id"]]
    assert (row["status"], row["provider_session_id"]) == ("pending", created["session_id"])


async def test_a_purchase_whose_session_fails_is_cancelled(deps: BillingDeps) -> None:
    provider = deps.provider
    assert isinstance(provider, FakeProvider)
    provider.fail = True
    with pytest.raises(ProviderError):
        await _buy(deps)
    [row] = _ledger(deps).rows.values()
    assert row["status"] == "cancelled"


async def test_a_paid_session_credits_once_whatever_is_replayed(deps: BillingDeps) -> None:
    created = await _buy(deps)
    body = _event(created)
    assert await purchases.handle_payment_webhook(deps, body, _sign(body)) == "paid"
    # The same event again, then another event for the same payment.
    assert await purchases.handle_payment_webhook(deps, body, _sign(body)) == "replayed"
    other = _event(created, "checkout.session.async_payment_succeeded", "evt_2")
    assert await purchases.handle_payment_webhook(deps, other, _sign(other)) == "replayed"
    assert (await deps.ledger.balance("acc_1")).balance == 100
    [receipt] = _ledger(deps).receipt_rows
    assert receipt["amount_cents"] == 500 and receipt["units"] == 100
    assert receipt["provider_session_id"] == created["session_id"]
    assert receipt["event_id"] == "evt_1"


async def test_events_that_do_not_verify_are_refused(deps: BillingDeps) -> None:
    created = await _buy(deps)
    body = _event(created)
    stale = int(time.time()) - 3600
    for signature in (_sign(body, "whsec_wrong"), _sign(body, at=stale), None, "t=1,v1=00"):
        with pytest.raises(InvalidSignature):
            await purchases.handle_payment_webhook(deps, body, signature)
    assert (await deps.ledger.balance("acc_1")).balance == 0


async def test_signed_events_that_do_not_match_a_purchase_are_refused(deps: BillingDeps) -> None:
    created = await _buy(deps)
    cheaper = _event(created, amount_total=1)
    with pytest.raises(BadWebhook, match="amount_total"):
        await purchases.handle_payment_webhook(deps, cheaper, _sign(cheaper))
    unknown = _event({**created, "purchase_id": "pur_nope"})
    with pytest.raises(BadWebhook, match="unknown purchase"):
        await purchases.handle_payment_webhook(deps, unknown, _sign(unknown))
    assert (await deps.ledger.balance("acc_1")).balance == 0


async def test_other_events_and_sessions_are_acknowledged_and_change_nothing(
    deps: BillingDeps,
) -> None:
    created = await _buy(deps)
    refund = _event(created, "charge.refunded", "evt_r")
    assert await purchases.handle_payment_webhook(deps, refund, _sign(refund)) == "ignored"
    foreign = _event(created, client_reference_id=None, metadata={})
    assert await purchases.handle_payment_webhook(deps, foreign, _sign(foreign)) == "ignored"
    delayed = _event(created, event_id="evt_d", payment_status="unpaid")
    assert await purchases.handle_payment_webhook(deps, delayed, _sign(delayed)) == (
        "awaiting_payment"
    )
    assert (await deps.ledger.balance("acc_1")).balance == 0


async def test_an_expired_session_cancels_its_purchase_for_good(deps: BillingDeps) -> None:
    created = await _buy(deps)
    expired = _event(created, "checkout.session.expired", "evt_x", payment_status="unpaid")
    assert await purchases.handle_payment_webhook(deps, expired, _sign(expired)) == "cancelled"
    assert await purchases.handle_payment_webhook(deps, expired, _sign(expired)) == "replayed"
    paid = _event(created, event_id="evt_late")
    assert await purchases.handle_payment_webhook(deps, paid, _sign(paid)) == "replayed"
    assert (await deps.ledger.balance("acc_1")).balance == 0
