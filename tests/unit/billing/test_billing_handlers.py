"""Billing's handlers with in-memory ports: how verdicts settle and reservations answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.unit.billing.fakes import RecordedReservations, Wakes, memory_deps

from lc_billing import handlers
from lc_billing.handlers import BillingDeps
from lc_common.events import Evidence, LeadVerdictV1


@pytest.fixture
def deps() -> BillingDeps:
    return memory_deps()


def _verdict(row: int, final: bool = True, chargeable: bool = True) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_1",
        batch_id="bat_1",
        lead_id=f"bat_1:{row:09d}",
        probe_id=f"p{row}",
        attempt=1,
        status="connected" if final else "indeterminate",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=datetime(2025, 1, 1, tzinfo=UTC)),
        chargeable=chargeable,
    )


async def test_final_verdicts_charge_or_free_by_chargeable_and_non_final_do_nothing(
    deps: BillingDeps,
) -> None:
    for event in (_verdict(1), _verdict(2, chargeable=False), _verdict(3, final=False)):
        await handlers.handle_verdict(event, deps)
    recorded = deps.reservations
    assert isinstance(recorded, RecordedReservations)
    assert recorded.calls == [("charge", "bat_1:000000001"), ("free", "bat_1:000000002")]


async def test_a_refusal_that_exhausts_wakes_the_relay(deps: BillingDeps) -> None:
    answer = await handlers.reserve(deps, "acc_1", [("bat_1:1", "bat_1"), ("bat_1:2", "bat_1")])
    assert answer == {
        "reserved": ["bat_1:1"],
        "refused": ["bat_1:2"],
        "settled": [],
        "available": 0,
    }
    wakes = deps.relay
    assert isinstance(wakes, Wakes) and wakes.count == 1
