"""Billing's settings, from `LC_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from lc_common.settings import DEV_SECRET, ServiceSettings


class BillingSettings(ServiceSettings):
    """Where the payment provider is, how its webhooks are signed and what a unit costs."""

    owner: ClassVar[str] = "billing"

    http_port: int = 8005
    payment_provider_url: str = "http://127.0.0.1:8007"
    payment_webhook_secret: SecretStr = SecretStr(DEV_SECRET)
    # The address the provider posts its webhooks to (billing's public ingress in production).
    payment_webhook_url: str = "http://127.0.0.1:8005/webhooks/payments"
    unit_price_cents: int = Field(5, ge=1)
    currency: str = "AUD"
    max_purchase_units: int = Field(1_000_000, ge=1)
    provider_timeout_seconds: float = Field(10.0, gt=0)
    # Where ingest answers the reconciler's question about leads' states.
    ingest_url: str = "http://127.0.0.1:8001"
    # Open reservations older than this are checked against ingest (a verdict may be lost);
    # `LC_BILLING_RECONCILE_AFTER_SECONDS`, `LC_BILLING_RECONCILE_INTERVAL_SECONDS`.
    billing_reconcile_after_seconds: float = Field(900.0, gt=0)
    billing_reconcile_interval_seconds: float = Field(60.0, gt=0)
    # The outbox relay also scans this often (it is woken at once after a write).
    outbox_scan_seconds: float = Field(5.0, gt=0)
