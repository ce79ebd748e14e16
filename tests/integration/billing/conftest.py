"""Billing's integration fixtures."""

from __future__ import annotations

import pytest

from lc_billing.config import BillingSettings
from lc_localstack.peers import free_port


@pytest.fixture
def billing_settings(service_env: dict[str, str]) -> BillingSettings:
    port = free_port()
    return BillingSettings(
        http_port=port,
        payment_provider_url=f"http://127.0.0.1:{free_port()}",
        payment_webhook_url=f"http://127.0.0.1:{port}/webhooks/payments",
    )
