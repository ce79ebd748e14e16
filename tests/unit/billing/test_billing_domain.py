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


def test_signature_is_hex_hmac_sha256_of_the_body() -> None:
    # RFC 4231 test case 2.
    body = b"what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert domain.sign(body, "Jefe") == expected
    assert domain.verify_signature(body, expected, "Jefe")
    assert domain.verify_signature(body, expected.upper(), "Jefe")


@pytest.mark.parametrize(
    ("body", "signature", "secret"),
    [
        (b'{"units": 1000}', domain.sign(b'{"units": 10}', "s"), "s"),  # body tampered
        (b'{"units": 10}', domain.sign(b'{"units": 10}', "other"), "s"),  # wrong secret
        (b'{"units": 10}', None, "s"),
        (b'{"units": 10}', "", "s"),
        (b'{"units": 10}', "not-hex", "s"),
    ],
)
def test_a_signature_that_does_not_match_is_refused(
    body: bytes, signature: str | None, secret: str
) -> None:
    assert not domain.verify_signature(body, signature, secret)


def test_price_and_ids() -> None:
    assert domain.price_cents(250, 5) == 1250
    assert domain.deduction_id("bat_abc") == "ded_bat_abc"
    assert domain.new_purchase_id().startswith("pur_")
    assert domain.new_purchase_id() != domain.new_purchase_id()
