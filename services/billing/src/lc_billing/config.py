"""Billing's settings, from `LC_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from lc_common.settings import ServiceSettings

# The local payments simulator accepts these (deploy/local/stack.env sets the same values);
# production refuses them: a real Stripe key and endpoint secret come from a Secret.
LOCAL_STRIPE_API_KEY = "sk_test_lc_local_simulator"
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_lc_local_simulator_dev_only"


class BillingSettings(ServiceSettings):
    """Where Stripe is, how its webhooks are signed and what a unit costs."""

    owner: ClassVar[str] = "billing"

    http_port: int = 8005
    # `LC_STRIPE_API_KEY`: the secret key (`sk_live_...` in production).
    stripe_api_key: SecretStr = SecretStr(LOCAL_STRIPE_API_KEY)
    # `LC_STRIPE_WEBHOOK_SECRET`: the webhook endpoint's signing secret (`whsec_...`).
    stripe_webhook_secret: SecretStr = SecretStr(LOCAL_STRIPE_WEBHOOK_SECRET)
    # `LC_STRIPE_API_BASE`: None talks to Stripe; locally, the simulator's URL.
    stripe_api_base: str | None = None
    unit_price_cents: int = Field(5, ge=1)
    currency: str = Field("AUD", pattern=r"^[A-Za-z]{3}$")
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

    @model_validator(mode="after")
    def _refuse_local_stripe_credentials_in_production(self) -> BillingSettings:
        if self.environment != "production":
            return self
        if self.stripe_api_key.get_secret_value() == LOCAL_STRIPE_API_KEY:
            raise ValueError("LC_STRIPE_API_KEY must be set to a Stripe secret key in production")
        secret = self.stripe_webhook_secret.get_secret_value()
        if secret == LOCAL_STRIPE_WEBHOOK_SECRET or not secret.startswith("whsec_"):
            raise ValueError(
                "LC_STRIPE_WEBHOOK_SECRET must be the endpoint's whsec_ secret in production"
            )
        return self
