"""Billing rules, free of I/O: what costs a unit, what a checkout session of a purchase is."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from lc_common.events import LeadVerdictV1

UNIT = "CU"

CreditState = Literal["exhausted", "restored"]
TransactionKind = Literal["purchase", "deduction", "grant"]
PurchaseStatus = Literal["pending", "paid", "cancelled"]


def is_chargeable(verdict: LeadVerdictV1) -> bool:
    """A lead costs one unit on its final verdict, if an attempt reached the network.

    A final `indeterminate` after real attempts is chargeable (the network was asked
    and did not tell); a lead whose every attempt met a trunk fault (our side) comes
    final with `chargeable=False` and is free. Non-final verdicts cost nothing.
    """
    return verdict.final and verdict.chargeable


def deduction_id(batch_id: str) -> str:
    """The one deduction row of a batch; its units grow as the batch's leads finish."""
    return f"ded_{batch_id}"


def new_purchase_id() -> str:
    return f"pur_{secrets.token_hex(12)}"


def new_grant_id() -> str:
    return f"grt_{secrets.token_hex(12)}"


def price_cents(units: int, unit_price_cents: int) -> int:
    """What `units` Cleansing Units cost, in the smallest currency unit."""
    return units * unit_price_cents


PRODUCT_NAME = "Lead Cleanser credit"


def checkout_line_items(units: int, unit_price_cents: int, currency: str) -> list[dict[str, Any]]:
    """The one line of a credit purchase: `units` of the credit product at the unit price
    (in the smallest currency unit, currency in Stripe's lower case)."""
    return [
        {
            "price_data": {
                "currency": currency.lower(),
                "unit_amount": unit_price_cents,
                "product_data": {"name": PRODUCT_NAME},
            },
            "quantity": units,
        }
    ]


def with_session_placeholder(url: str) -> str:
    """`url` with `session_id={CHECKOUT_SESSION_ID}` added: Stripe fills in the session."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}session_id={{CHECKOUT_SESSION_ID}}"


def checkout_params(
    *,
    purchase_id: str,
    account_id: str,
    units: int,
    unit_price_cents: int,
    currency: str,
    success_url: str,
    cancel_url: str,
) -> dict[str, Any]:
    """The Checkout Session of a purchase (`mode=payment`, one inline-priced line).

    `client_reference_id` and `metadata` name the purchase, so the completed session
    leads back to it; the purchase id is also the idempotency key of the creation.
    """
    return {
        "mode": "payment",
        "line_items": checkout_line_items(units, unit_price_cents, currency),
        "client_reference_id": purchase_id,
        "metadata": {"account_id": account_id, "purchase_id": purchase_id, "units": str(units)},
        "success_url": with_session_placeholder(success_url),
        "cancel_url": cancel_url,
    }


class CheckoutSessionObject(BaseModel):
    """The fields billing reads from a `checkout.session` in a webhook event."""

    model_config = ConfigDict(extra="ignore")

    id: str
    client_reference_id: str | None = None
    metadata: dict[str, str] = {}
    amount_total: int | None = None
    currency: str | None = None
    payment_status: str = "unpaid"
    status: str | None = None
    payment_intent: str | None = None

    @property
    def purchase_id(self) -> str | None:
        """The purchase the session pays for (ours set both; either will do)."""
        return self.client_reference_id or self.metadata.get("purchase_id")


def mismatch(session: CheckoutSessionObject, purchase: dict[str, Any]) -> str | None:
    """The first field in which a paid session disagrees with its purchase, or None."""
    expected: dict[str, Any] = {
        "id": purchase.get("provider_session_id"),
        "amount_total": purchase["amount_cents"],
        "currency": str(purchase["currency"]).lower(),
    }
    actual: dict[str, Any] = {
        "id": session.id,
        "amount_total": session.amount_total,
        "currency": (session.currency or "").lower(),
    }
    for name, value in expected.items():
        if actual[name] != value:
            return name
    if session.metadata.get("account_id", purchase["account_id"]) != purchase["account_id"]:
        return "account_id"
    return None
