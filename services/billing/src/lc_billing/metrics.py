"""Every Prometheus metric billing exposes."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UNITS_DEDUCTED = Counter(
    "lc_billing_units_deducted_total",
    "Cleansing Units charged for leads with a chargeable final verdict.",
)
DUPLICATE_VERDICTS = Counter(
    "lc_billing_duplicate_final_verdicts_total",
    "Final verdicts for leads already charged (redelivered or duplicated); not charged again.",
)
UNITS_CREDITED = Counter(
    "lc_billing_units_credited_total",
    "Cleansing Units added to balances, by kind (purchase, grant).",
    ["kind"],
)
PURCHASES = Counter(
    "lc_billing_purchases_total",
    "Purchases by status reached (pending, paid, cancelled).",
    ["status"],
)
BALANCE_EXHAUSTED = Counter(
    "lc_billing_balance_exhausted_total",
    "Times a reservation was refused for lack of credit and `exhausted` was queued.",
)
CREDIT_RESTORED = Counter(
    "lc_billing_credit_restored_total",
    "Times credit was bought or granted to an exhausted account (`restored` queued).",
)
RESERVATIONS = Counter(
    "lc_billing_reservations_total",
    "Leads in reservation requests, by outcome (granted, held, refused, settled).",
    ["outcome"],
)
RESERVATIONS_RELEASED = Counter(
    "lc_billing_reservations_released_total",
    "Open reservations released, by reason (batch given up, verdict not chargeable).",
    ["reason"],
)
UNRESERVED_VERDICTS = Counter(
    "lc_billing_unreserved_verdicts_total",
    "Chargeable final verdicts of leads with no reservation, by outcome (charged, written_off).",
    ["outcome"],
)
RECONCILED = Counter(
    "lc_billing_reconciled_total",
    "Old open reservations checked against ingest, by outcome (charged, released, left).",
    ["outcome"],
)
WEBHOOKS_TOO_LARGE = Counter(
    "lc_billing_webhooks_too_large_total",
    "Payment webhook requests refused because their body exceeded the size cap.",
)
WEBHOOK_SIGNATURE_FAILURES = Counter(
    "lc_billing_webhook_signature_failures_total",
    "Payment webhooks refused because their signature did not verify.",
)
WEBHOOKS = Counter(
    "lc_billing_webhooks_total",
    "Stripe events with a valid signature, by outcome (paid, replayed, cancelled, "
    "awaiting_payment, ignored, mismatch).",
    ["outcome"],
)
CHECKOUT_SECONDS = Histogram(
    "lc_billing_checkout_session_seconds",
    "Time the payment provider took to create a checkout session.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
