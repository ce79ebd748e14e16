"""Billing rules, free of I/O: what costs a unit, how webhooks are signed, when credit ran out."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

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


def sign(body: bytes, secret: str) -> str:
    """The webhook signature: hex HMAC-SHA256 of the raw body with the shared secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """True only if `signature` is the body's HMAC under `secret` (compared in constant time)."""
    if not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())


class PaymentWebhook(BaseModel):
    """The provider's notification about one checkout session."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: Literal["checkout.completed", "checkout.cancelled"]
    session_id: str
    purchase_id: str
    units: int
    amount_cents: int
    currency: str
