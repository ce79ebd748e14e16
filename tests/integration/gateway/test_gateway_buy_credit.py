"""Buy Credit from the control panel to Stripe's hosted page and back, with nothing standing
in: the gateway, the real billing service (broker and store) and the payments simulator,
which billing reaches through the official `stripe` library."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import SecretStr
from tests.integration.gateway.conftest import gateway_settings, log_in
from tests.support import serving

from lc_billing.config import BillingSettings
from lc_billing.main import create_app as create_billing_app
from lc_gateway.bootstrap import Gateway
from lc_gateway.main import create_app as create_gateway_app
from lc_localstack.payments import create_app as create_payments_app
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(120)]
TOKEN = "buy-credit-internal-token"


async def test_the_panel_confirms_the_total_then_pays_on_the_hosted_page_once(
    service_env: dict[str, str],
) -> None:
    billing_port, payments_port, gateway_port = free_port(), free_port(), free_port()
    payments_url = f"http://127.0.0.1:{payments_port}"
    billing = BillingSettings(
        http_port=billing_port,
        internal_token=SecretStr(TOKEN),
        stripe_api_base=payments_url,
        unit_price_cents=7,
    )
    public = f"http://127.0.0.1:{gateway_port}"
    gateway = gateway_settings(
        public, "http://127.0.0.1:9", f"http://127.0.0.1:{billing_port}", internal_token=TOKEN
    )
    payments = create_payments_app(
        api_key=billing.stripe_api_key.get_secret_value(),
        webhook_secret=billing.stripe_webhook_secret.get_secret_value(),
        webhook_url=f"http://127.0.0.1:{billing_port}/webhooks/payments",
    )
    gateway_app = create_gateway_app(gateway)
    async with (
        serving(payments, payments_port),
        serving(create_billing_app(billing), billing_port),
        serving(gateway_app, gateway_port),
        httpx.AsyncClient(base_url=public, timeout=30) as browser,
    ):
        state: Gateway = gateway_app.state.gateway
        owner = await state.accounts.create_account(
            name="Stripe Co", email="stripe.co@example.com", password="correct horse battery staple"
        )
        token = await log_in(browser, owner.login)

        page = await browser.get("/billing")
        assert "AUD 0.07</strong> per unit" in page.text
        confirm = await browser.post("/billing/buy", data={"units": "1200", "csrf_token": token})
        assert confirm.status_code == 200
        assert '<strong id="confirm-total">AUD 84.00</strong>' in confirm.text
        sent = await browser.post(
            "/billing/buy", data={"units": "1200", "confirm": "yes", "csrf_token": token}
        )
        assert sent.status_code == 303
        checkout_url = sent.headers["location"]
        assert re.fullmatch(rf"{payments_url}/c/pay/cs_test_[0-9a-f]+", checkout_url)

        hosted = await browser.get(checkout_url)
        assert "AUD 84.00" in hosted.text
        assert (await browser.get("/api/v1/billing/balance")).json()["balance"] == 0
        paid = await browser.post(checkout_url, data={"card_number": "4242 4242 4242 4242"})
        assert paid.status_code == 303
        session_id = checkout_url.rsplit("/", 1)[1]
        assert paid.headers["location"] == f"{public}/billing/return?session_id={session_id}"
        back = await browser.get(paid.headers["location"])
        assert back.status_code == 200 and "Thank you" in back.text

        # Paying again on the same page (a double click) grants nothing more.
        again = await browser.post(checkout_url, data={"card_number": "4242 4242 4242 4242"})
        assert again.status_code == 303
        assert (await browser.get("/api/v1/billing/balance")).json()["balance"] == 1200
        billing_page = await browser.get("/billing")
        assert '<span id="balance">1200</span>' in billing_page.text
        assert "AUD 84.00" in billing_page.text and session_id in billing_page.text
        receipts = (await browser.get("/api/v1/billing/receipts")).json()["receipts"]
        assert [(r["units"], r["amount_cents"], r["provider_session_id"]) for r in receipts] == [
            (1200, 8400, session_id)
        ]
