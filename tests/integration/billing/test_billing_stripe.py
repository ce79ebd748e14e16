"""Buying credit end to end: billing, on the real store and broker, talks to the payments
simulator through the official `stripe` library; the simulator's hosted page pays and
posts a Stripe-signed event back to billing's webhook."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
import stripe
from tests.integration.billing.support import headers
from tests.support import serving

from lc_billing import domain
from lc_billing.adapters.payments import ProviderError, StripeCheckout
from lc_billing.config import BillingSettings
from lc_billing.main import create_app

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(120)]

RETURN = "http://app.test/billing/return"
CANCEL = "http://app.test/billing"


def _params(purchase_id: str, units: int) -> dict[str, Any]:
    return domain.checkout_params(
        purchase_id=purchase_id,
        account_id="acc_idem",
        units=units,
        unit_price_cents=5,
        currency="AUD",
        success_url=RETURN,
        cancel_url=CANCEL,
    )


async def test_the_same_idempotency_key_yields_the_same_session(
    billing_settings: BillingSettings, payments: str
) -> None:
    settings = billing_settings
    checkout = StripeCheckout(settings.stripe_api_key.get_secret_value(), payments, timeout=5)
    try:
        first = await checkout.create_checkout_session(_params("pur_idem1", 10), "pur_idem1")
        again = await checkout.create_checkout_session(_params("pur_idem1", 10), "pur_idem1")
        other = await checkout.create_checkout_session(_params("pur_idem2", 10), "pur_idem2")
        assert again == first and other.id != first.id
        with pytest.raises(ProviderError, match="IdempotencyError"):
            await checkout.create_checkout_session(_params("pur_idem1", 99), "pur_idem1")
    finally:
        await checkout.close()
    wrong_key = StripeCheckout("sk_test_not_the_key", payments, timeout=5)
    try:
        with pytest.raises(ProviderError, match="AuthenticationError"):
            await wrong_key.create_checkout_session(_params("pur_idem3", 1), "pur_idem3")
    finally:
        await wrong_key.close()


async def _balance(http: httpx.AsyncClient) -> int:
    answer = (await http.get("/internal/v1/balance")).json()
    return int(answer["balance"])


async def _buy(http: httpx.AsyncClient, units: int) -> dict[str, Any]:
    created = await http.post(
        "/internal/v1/purchases",
        json={"units": units, "return_url": RETURN, "cancel_url": CANCEL},
    )
    assert created.status_code == 201, created.text
    purchase: dict[str, Any] = created.json()
    return purchase


async def test_paying_on_the_hosted_page_credits_once_and_leaves_a_receipt(
    billing_settings: BillingSettings, payments: str
) -> None:
    settings = billing_settings
    account = f"acc_{uuid.uuid4().hex[:8]}"
    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers(settings, account)) as http,
        httpx.AsyncClient() as browser,
    ):
        purchase = await _buy(http, 250)
        assert purchase["status"] == "pending"
        assert purchase["checkout_url"] == f"{payments}/c/pay/{purchase['session_id']}"

        # The hosted page shows what is bought and its total; nothing is paid by itself.
        page = await browser.get(purchase["checkout_url"])
        assert page.status_code == 200
        assert "AUD 12.50" in page.text and "Lead Cleanser credit" in page.text
        assert 'id="pay"' in page.text and 'id="cancel"' in page.text
        cancelled = await browser.post(f"{purchase['checkout_url']}/cancel")
        assert (cancelled.status_code, cancelled.headers["location"]) == (303, CANCEL)
        assert await _balance(http) == 0

        paid = await browser.post(
            purchase["checkout_url"], data={"card_number": "4242 4242 4242 4242"}
        )
        assert paid.status_code == 303
        assert paid.headers["location"] == f"{RETURN}?session_id={purchase['session_id']}"
        assert await _balance(http) == 250

        # Stripe resends: the same event again changes nothing.
        sent = (await browser.get(f"{payments}/_simulator/events")).json()
        [completed] = [e for e in sent["events"] if e["type"] == "checkout.session.completed"]
        assert completed["data"]["object"]["client_reference_id"] == purchase["purchase_id"]
        resent = await browser.post(f"{payments}/_simulator/events/{completed['id']}/resend")
        assert resent.json()["status_code"] == 200
        assert [d["status_code"] for d in sent["deliveries"]] == [200]
        assert await _balance(http) == 250

        # A second event for the same payment (another id) grants nothing more either.
        duplicate = json.dumps({**completed, "id": "evt_another"}).encode()
        answer = await _post_event(browser, url, duplicate, settings)
        assert (answer.status_code, answer.json()) == (200, {"outcome": "replayed"})
        assert await _balance(http) == 250

        # Signed with another secret: refused; an event type billing does not use: 200.
        forged = await browser.post(
            f"{url}/webhooks/payments",
            content=duplicate,
            headers={"Stripe-Signature": _signature(duplicate, "whsec_forged")},
        )
        assert forged.status_code == 400
        assert forged.json()["error"]["code"] == "invalid_signature"
        unsigned = await browser.post(f"{url}/webhooks/payments", content=duplicate)
        assert unsigned.status_code == 400
        other = json.dumps({**completed, "id": "evt_other", "type": "charge.refunded"}).encode()
        answer = await _post_event(browser, url, other, settings)
        assert (answer.status_code, answer.json()) == (200, {"outcome": "ignored"})
        assert await _balance(http) == 250

        rows = (await http.get("/internal/v1/transactions")).json()["transactions"]
        assert [(r["id"], r["kind"], r["units"], r["status"]) for r in rows] == [
            (purchase["purchase_id"], "purchase", 250, "paid")
        ]
        assert "4242" not in (await http.get("/internal/v1/transactions")).text
        receipts = (await http.get("/internal/v1/receipts")).json()
        [receipt] = receipts["receipts"]
        assert receipts["next_cursor"] is None
        assert receipt["id"] == receipt["purchase_id"] == purchase["purchase_id"]
        assert (receipt["units"], receipt["amount_cents"], receipt["currency"]) == (
            250,
            1250,
            "AUD",
        )
        assert receipt["provider_session_id"] == purchase["session_id"]
        assert re.match(r"\d{4}-\d\d-\d\dT", receipt["paid_at"])


async def test_receipts_are_listed_a_page_at_a_time_newest_first(
    billing_settings: BillingSettings, payments: str
) -> None:
    settings = billing_settings
    account = f"acc_{uuid.uuid4().hex[:8]}"
    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers(settings, account)) as http,
        httpx.AsyncClient() as browser,
    ):
        bought = []
        for units in (10, 20, 30):
            purchase = await _buy(http, units)
            await browser.post(purchase["checkout_url"], data={"card_number": "4242424242424242"})
            bought.append(purchase["purchase_id"])
        unpaid = await _buy(http, 40)
        assert unpaid["status"] == "pending"
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/internal/v1/receipts", params=params)).json()
            seen += [r["purchase_id"] for r in page["receipts"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == bought[::-1]
        assert await _balance(http) == 60
        foreign = headers(settings, "acc_someone_else")
        other = await http.get("/internal/v1/receipts", headers=foreign)
        assert other.json() == {"receipts": [], "next_cursor": None}


def _signature(payload: bytes, secret: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, int(time.time())
    )


async def _post_event(
    http: httpx.AsyncClient, url: str, payload: bytes, settings: BillingSettings
) -> httpx.Response:
    signature = _signature(payload, settings.stripe_webhook_secret.get_secret_value())
    return await http.post(
        f"{url}/webhooks/payments", content=payload, headers={"Stripe-Signature": signature}
    )
