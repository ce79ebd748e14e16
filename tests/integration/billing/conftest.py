"""Billing's integration fixtures: its settings, and the payments simulator beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from tests.support import serving

from lc_billing.config import BillingSettings
from lc_localstack.payments import create_app as create_payments_app
from lc_localstack.peers import free_port


@pytest.fixture
def billing_settings(service_env: dict[str, str]) -> BillingSettings:
    """Billing on a free port, its Stripe API base a free port for the simulator."""
    return BillingSettings(http_port=free_port(), stripe_api_base=f"http://127.0.0.1:{free_port()}")


@pytest.fixture
async def payments(billing_settings: BillingSettings) -> AsyncIterator[str]:
    """The payments simulator (the Stripe subset) at billing's API base, posting its events
    to billing's `/webhooks/payments` with billing's key and webhook secret."""
    settings = billing_settings
    assert settings.stripe_api_base is not None
    port = urlparse(settings.stripe_api_base).port
    assert port is not None
    app = create_payments_app(
        api_key=settings.stripe_api_key.get_secret_value(),
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
        webhook_url=f"http://127.0.0.1:{settings.http_port}/webhooks/payments",
    )
    async with serving(app, port) as url:
        yield url
