"""Billing's pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lc_billing import domain
from lc_common.events import Evidence, LeadVerdictV1


def _verdict(final: bool, chargeable: bool = True) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_1",
        batch_id="bat_1",
        lead_id="bat_1:000000001",
        probe_id="p1",
        attempt=1,
        status="connected" if final else "indeterminate",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=datetime(2025, 1, 1, tzinfo=UTC)),
        chargeable=chargeable,
    )


def test_only_chargeable_final_verdicts_cost_a_unit() -> None:
    assert domain.is_chargeable(_verdict(final=True))
    assert not domain.is_chargeable(_verdict(final=False))
    # Every attempt met a trunk fault: final, free.
    assert not domain.is_chargeable(_verdict(final=True, chargeable=False))


def test_a_purchase_is_one_inline_priced_line_of_credit() -> None:
    assert domain.checkout_line_items(300, 5, "AUD") == [
        {
            "price_data": {
                "currency": "aud",
                "unit_amount": 5,
                "product_data": {"name": "Lead Cleanser credit"},
            },
            "quantity": 300,
        }
    ]


def test_checkout_params_name_the_purchase_and_come_back_to_the_panel() -> None:
    params = domain.checkout_params(
        purchase_id="pur_1",
        account_id="acc_1",
        units=300,
        unit_price_cents=5,
        currency="AUD",
        success_url="https://app/billing/return",
        cancel_url="https://app/billing",
    )
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == "pur_1"
    assert params["metadata"] == {"account_id": "acc_1", "purchase_id": "pur_1", "units": "300"}
    assert params["success_url"] == "https://app/billing/return?session_id={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"] == "https://app/billing"
    assert domain.with_session_placeholder("https://a/r?x=1").endswith(
        "?x=1&session_id={CHECKOUT_SESSION_ID}"
    )


def _session(**overrides: object) -> domain.CheckoutSessionObject:
    fields: dict[str, object] = {
        "id": "cs_1",
        "client_reference_id": "pur_1",
        "metadata": {"account_id": "acc_1", "purchase_id": "pur_1"},
        "amount_total": 1500,
        "currency": "aud",
        "payment_status": "paid",
        **overrides,
    }
    return domain.CheckoutSessionObject.model_validate(fields)


PURCHASE = {
    "_id": "pur_1",
    "account_id": "acc_1",
    "units": 300,
    "amount_cents": 1500,
    "currency": "AUD",
    "provider_session_id": "cs_1",
}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({}, None),
        ({"id": "cs_2"}, "id"),
        ({"amount_total": 5}, "amount_total"),
        ({"currency": "usd"}, "currency"),
        ({"metadata": {"account_id": "acc_2"}}, "account_id"),
    ],
)
def test_a_paid_session_must_match_its_purchase(overrides: dict[str, object], field: str) -> None:
    assert domain.mismatch(_session(**overrides), PURCHASE) == field


def test_the_purchase_of_a_session_is_its_reference_or_metadata() -> None:
    assert _session().purchase_id == "pur_1"
    assert _session(client_reference_id=None).purchase_id == "pur_1"
    assert _session(client_reference_id=None, metadata={}).purchase_id is None


def test_price_and_ids() -> None:
    assert domain.price_cents(250, 5) == 1250
    assert domain.deduction_id("bat_abc") == "ded_bat_abc"
    assert domain.new_purchase_id().startswith("pur_")
    assert domain.new_purchase_id() != domain.new_purchase_id()
